-- Work that falls due at an instant: reminders, pause expiries, alerts to send, sends to
-- retry. Every node's scheduler claims due rows with FOR UPDATE SKIP LOCKED, so each row is
-- handled by one node, and a row's next instant is written in the transaction that did its
-- work.

CREATE TABLE due_items (
    kind        text NOT NULL
        CHECK (kind IN ('reading_reminder', 'ritual_reminder', 'pause_expiry', 'alert', 'retry')),
    couple_id   uuid NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    -- The couple (reading reminder), the ritual, the pause, or the alert's own id.
    subject_id  uuid NOT NULL,
    -- Which occurrence this instant belongs to (a local date, a pause id): part of the key
    -- that keeps a phone from showing one reminder twice.
    occurrence  text NOT NULL,
    due_at      timestamptz NOT NULL,
    -- Past this instant the work is skipped and recorded, not done late; null: always done.
    grace_until timestamptz,
    -- The person an alert is about or a retry is for: their erasure takes the row with it.
    user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    payload     jsonb,
    attempts    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, couple_id, subject_id)
);
CREATE INDEX due_items_due ON due_items (due_at);

-- Every notification decided on, whatever the transport: what the outbox lists, and what FCM
-- answered when FCM was used.
CREATE TABLE notifications (
    dedupe_key      text PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    installation_id text,
    token           text,
    kind            text NOT NULL,
    priority        text NOT NULL,
    title           text NOT NULL,
    body            text NOT NULL,
    data            jsonb NOT NULL,
    due_at          timestamptz NOT NULL,
    sent_at         timestamptz,
    outcome         text NOT NULL,
    detail          text,
    attempts        integer NOT NULL DEFAULT 1,
    recorded_at     timestamptz NOT NULL
);
CREATE INDEX notifications_recorded ON notifications (recorded_at);
CREATE INDEX notifications_user ON notifications (user_id);

CREATE INDEX devices_registered ON devices (registered_at);

-- Due work skipped because it was found later than its grace window (every node was down).
CREATE TABLE missed_items (
    kind       text NOT NULL,
    couple_id  uuid NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    subject_id uuid NOT NULL,
    occurrence text NOT NULL,
    due_at     timestamptz NOT NULL,
    found_at   timestamptz NOT NULL
);
CREATE INDEX missed_items_couple ON missed_items (couple_id);

-- When each socket was last heard from (a frame, or a pong to a protocol ping), by its node's
-- clock: a socket silent for 30 s does not count as live when deciding on a push.
ALTER TABLE live_sockets ADD COLUMN heard_at timestamptz NOT NULL DEFAULT now();
