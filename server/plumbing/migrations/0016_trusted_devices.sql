-- Trusted devices: a device is trusted by an account only when it holds a secret the server
-- gave it at a successful sign-in, never because it names an installation id (anyone can name
-- one). Only a hash of the secret is kept.

CREATE TABLE trusted_devices (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the 256-bit secret: like a refresh token's, too random to be tried.
    secret_hash  bytea NOT NULL UNIQUE,
    -- The session it was last given to: ended by a person or as stolen, the trust ends with
    -- it; ended by time, the trust stands until its 90 days unused are over. Null after a
    -- password reset that kept this trust while ending its session.
    session_id   uuid REFERENCES sessions (id) ON DELETE SET NULL,
    platform     text CHECK (platform IN ('ios', 'android', 'web')),
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz NOT NULL
);
CREATE INDEX trusted_devices_user ON trusted_devices (user_id);
CREATE INDEX trusted_devices_session ON trusted_devices (session_id);
-- The sweep finds trusts unused for 90 days from here (and their sessions' last use).
CREATE INDEX trusted_devices_last_used ON trusted_devices (last_used_at);

-- A claimed installation id no longer makes a device known to an account, so nothing asks
-- which installations signed in before; and none is kept from now on, so the export and the
-- sessions list cannot show one. The column stays until no node of an older release writes
-- it (a later migration drops it).
DROP INDEX sessions_installation;
UPDATE sessions SET installation_id = NULL WHERE installation_id IS NOT NULL;
