-- The agent registry: which agents exist, where they listen, what they can do, whether they are alive.
-- Written to converge: on a fresh database it creates the table; on a database where the
-- agent-registry service created its own table before migrations existed (named `agents`
-- or `agent_registry`, with fewer columns, json and naive timestamps) it adopts that table.

DO $$
BEGIN
    IF to_regclass('public.agent_registry') IS NULL AND to_regclass('public.agents') IS NOT NULL THEN
        ALTER TABLE public.agents RENAME TO agent_registry;
        IF to_regclass('public.agents_pkey') IS NOT NULL THEN
            ALTER INDEX public.agents_pkey RENAME TO agent_registry_pkey;
        END IF;
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS agent_registry (
    agent_id       text PRIMARY KEY,
    name           text NOT NULL,
    base_url       text NOT NULL,
    status         text NOT NULL DEFAULT 'unknown',
    capabilities   jsonb NOT NULL DEFAULT '[]'::jsonb,
    metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
    last_heartbeat timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE agent_registry ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'unknown';
ALTER TABLE agent_registry ADD COLUMN IF NOT EXISTS capabilities jsonb NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE agent_registry ADD COLUMN IF NOT EXISTS metadata jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE agent_registry ADD COLUMN IF NOT EXISTS last_heartbeat timestamptz;
ALTER TABLE agent_registry ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE agent_registry ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE agent_registry ALTER COLUMN status SET DEFAULT 'unknown';

-- Older tables kept capabilities as json (or text) and heartbeats as timestamps without zone (UTC).
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = 'agent_registry'
    LOOP
        IF col.column_name IN ('capabilities', 'metadata') AND col.data_type <> 'jsonb' THEN
            EXECUTE format('ALTER TABLE agent_registry ALTER COLUMN %I DROP DEFAULT', col.column_name);
            EXECUTE format('ALTER TABLE agent_registry ALTER COLUMN %I TYPE jsonb USING %I::jsonb', col.column_name, col.column_name);
            EXECUTE format('ALTER TABLE agent_registry ALTER COLUMN %I SET DEFAULT %L::jsonb', col.column_name,
                           CASE col.column_name WHEN 'capabilities' THEN '[]' ELSE '{}' END);
        ELSIF col.column_name IN ('last_heartbeat', 'created_at', 'updated_at')
              AND col.data_type = 'timestamp without time zone' THEN
            EXECUTE format('ALTER TABLE agent_registry ALTER COLUMN %I TYPE timestamptz USING %I AT TIME ZONE ''UTC''',
                           col.column_name, col.column_name);
        END IF;
    END LOOP;
END
$$;

CREATE INDEX IF NOT EXISTS agent_registry_status_idx ON agent_registry (status);
CREATE INDEX IF NOT EXISTS agent_registry_capabilities_idx ON agent_registry USING gin (capabilities);

-- updated_at follows every change, whoever makes it.
CREATE OR REPLACE FUNCTION devtools_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS agent_registry_touch ON agent_registry;
CREATE TRIGGER agent_registry_touch BEFORE UPDATE ON agent_registry
    FOR EACH ROW EXECUTE FUNCTION devtools_touch_updated_at();
