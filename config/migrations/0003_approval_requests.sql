-- Approval requests: actions an agent may only take once a human said yes.

CREATE TABLE IF NOT EXISTS approval_requests (
    request_id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workflow_id  text REFERENCES workflow_state (workflow_id) ON DELETE CASCADE,
    agent_id     text NOT NULL,
    action       text NOT NULL,
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
    status       text NOT NULL DEFAULT 'pending'
                 CONSTRAINT approval_requests_status_check
                 CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    decided_at   timestamptz,
    decided_by   text,
    reason       text
);

CREATE INDEX IF NOT EXISTS approval_requests_pending_idx
    ON approval_requests (requested_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS approval_requests_workflow_idx ON approval_requests (workflow_id);
