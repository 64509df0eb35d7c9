-- Accounts, sign-in sessions and the counters behind rate limits.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL,
    display_name  text NOT NULL,
    timezone      text NOT NULL,
    couple_id     uuid,
    created_at    timestamptz NOT NULL
);
-- Emails are compared case-insensitively: one account per address whatever its case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_couple ON users (couple_id) WHERE couple_id IS NOT NULL;

CREATE TABLE sessions (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL,
    last_used_at   timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Only a hash of each refresh token is kept; a stolen database holds no usable token.
CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  timestamptz NOT NULL,
    rotated_at timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- One row per counted attempt; kept in the database so a limit holds across server nodes.
CREATE TABLE rate_limit_hits (
    scope   text NOT NULL,
    subject text NOT NULL,
    at      timestamptz NOT NULL
);
CREATE INDEX rate_limit_hits_key ON rate_limit_hits (scope, subject, at);
