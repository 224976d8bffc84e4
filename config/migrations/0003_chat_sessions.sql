-- The orchestrator's chat memory: sessions (upserted by session_id) and their messages,
-- read newest first per session; expired sessions are deleted by updated_at.
-- Timestamps are `timestamp` holding UTC, as the orchestrator writes naive UTC datetimes.

CREATE TABLE IF NOT EXISTS chat_sessions (
    session_id text PRIMARY KEY,
    user_id    text,
    created_at timestamp NOT NULL DEFAULT now(),
    updated_at timestamp NOT NULL DEFAULT now(),
    metadata   jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS chat_sessions_user_idx ON chat_sessions (user_id);
CREATE INDEX IF NOT EXISTS chat_sessions_updated_idx ON chat_sessions (updated_at);

-- Deleting a session takes its messages with it.
CREATE TABLE IF NOT EXISTS chat_messages (
    message_id text PRIMARY KEY,
    session_id text NOT NULL REFERENCES chat_sessions (session_id) ON DELETE CASCADE,
    role       text NOT NULL,
    content    text NOT NULL,
    created_at timestamp NOT NULL DEFAULT now(),
    metadata   jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS chat_messages_session_time_idx ON chat_messages (session_id, created_at DESC);
