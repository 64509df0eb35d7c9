-- Sessions end after 60 days unused and 365 days after sign-in. Every node's sweep ends the
-- live sessions past either, a bounded batch at a time: these find them without reading the
-- ended ones (kept as the sign-in history).

CREATE INDEX sessions_live_last_used ON sessions (last_used_at) WHERE revoked_at IS NULL;
CREATE INDEX sessions_live_created ON sessions (created_at) WHERE revoked_at IS NULL;
