-- Sessions know the installation that signed in (the app's own id, as devices use it), and a
-- device belongs to the session that registered it: ending a session forgets its devices, so a
-- phone signed out from elsewhere gets no more of this person's notifications.

ALTER TABLE sessions ADD COLUMN installation_id text;
-- Whether an installation signed in to this account before (a correct password from it is never
-- refused, however many failures others caused).
CREATE INDEX sessions_installation ON sessions (user_id, installation_id)
    WHERE installation_id IS NOT NULL;

ALTER TABLE devices ADD COLUMN session_id uuid REFERENCES sessions (id) ON DELETE CASCADE;
-- Today's devices go to their owner's newest live session. An owner with no live session has
-- signed out everywhere: their devices should not have been told anything, and are forgotten.
UPDATE devices d SET session_id = (
    SELECT s.id FROM sessions s
    WHERE s.user_id = d.user_id AND s.revoked_at IS NULL
    ORDER BY s.created_at DESC, s.id DESC
    LIMIT 1
);
DELETE FROM devices WHERE session_id IS NULL;
ALTER TABLE devices ALTER COLUMN session_id SET NOT NULL;
CREATE INDEX devices_session ON devices (session_id);
