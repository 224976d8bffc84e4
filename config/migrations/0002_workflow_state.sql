-- Workflow state kept by state-persistence: one row per workflow, its current step and state document.
-- Adopts a table the service created itself before migrations existed.

CREATE TABLE IF NOT EXISTS workflow_state (
    workflow_id   text PRIMARY KEY,
    workflow_type text NOT NULL DEFAULT 'unknown',
    status        text NOT NULL DEFAULT 'pending',
    current_step  text,
    state         jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- Optimistic locking: writers update WHERE version = the version they read.
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE workflow_state ADD COLUMN IF NOT EXISTS workflow_type text NOT NULL DEFAULT 'unknown';
ALTER TABLE workflow_state ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'pending';
ALTER TABLE workflow_state ADD COLUMN IF NOT EXISTS current_step text;
ALTER TABLE workflow_state ADD COLUMN IF NOT EXISTS state jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE workflow_state ADD COLUMN IF NOT EXISTS version integer NOT NULL DEFAULT 1;
ALTER TABLE workflow_state ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE workflow_state ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
-- Columns an older table already had keep their data but get this schema's defaults.
ALTER TABLE workflow_state ALTER COLUMN status SET DEFAULT 'pending';
ALTER TABLE workflow_state ALTER COLUMN state SET DEFAULT '{}'::jsonb;

CREATE INDEX IF NOT EXISTS workflow_state_status_idx ON workflow_state (status);
CREATE INDEX IF NOT EXISTS workflow_state_updated_idx ON workflow_state (updated_at DESC);

DROP TRIGGER IF EXISTS workflow_state_touch ON workflow_state;
CREATE TRIGGER workflow_state_touch BEFORE UPDATE ON workflow_state
    FOR EACH ROW EXECUTE FUNCTION devtools_touch_updated_at();
