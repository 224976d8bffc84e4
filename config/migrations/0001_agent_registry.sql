-- agent-registry: one row per agent, upserted on registration (ON CONFLICT agent_id),
-- touched by each heartbeat, read back by status and by id.
-- Timestamps are `timestamp` (no zone) holding UTC: the service writes naive UTC datetimes and
-- subtracts the stored heartbeat from one, which fails on the aware values a timestamptz returns.
-- The server's TimeZone is UTC (render/postgres_conf.py), so now() stores UTC too.

CREATE TABLE IF NOT EXISTS agent_registry (
    agent_id       text PRIMARY KEY,
    agent_name     text NOT NULL,
    base_url       text NOT NULL,
    status         text NOT NULL DEFAULT 'active',
    capabilities   jsonb NOT NULL DEFAULT '[]'::jsonb,
    metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
    last_heartbeat timestamp NOT NULL DEFAULT now(),
    created_at     timestamp NOT NULL DEFAULT now(),
    updated_at     timestamp NOT NULL DEFAULT now()
);

-- Listing filters by status; capability search scans the active agents' capabilities.
CREATE INDEX IF NOT EXISTS agent_registry_status_idx ON agent_registry (status);
CREATE INDEX IF NOT EXISTS agent_registry_capabilities_idx ON agent_registry USING gin (capabilities);
