-- Password resets by email: single-use codes kept only as keyed hashes, and the mail that
-- carries them, written in the request's transaction and sent by whichever node claims it.

-- One row per request, whether or not the email has an account (user_id null then), so the
-- request does the same work either way. Gone when used (with every other code of the
-- account) or swept once expired.
CREATE TABLE password_resets (
    id           uuid PRIMARY KEY,
    -- HMAC of the lowercased email and of (email, code) under the server's secret key: a copy
    -- of the database alone neither lists the emails asked about nor lets codes be tried.
    email_hash   bytea NOT NULL,
    code_hash    bytea NOT NULL,
    user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
    requested_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX password_resets_code ON password_resets (email_hash, code_hash);
CREATE INDEX password_resets_user ON password_resets (user_id);
CREATE INDEX password_resets_expires ON password_resets (expires_at);

-- Mail on its way, and what became of it. The text (it may hold a code) is dropped once an
-- SMTP server took the mail or it was given up; the row goes when its code would expire.
CREATE TABLE mails (
    id          uuid PRIMARY KEY,
    kind        text NOT NULL,
    user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
    recipient   text NOT NULL,
    subject     text NOT NULL,
    text        text,
    created_at  timestamptz NOT NULL,
    -- Past it the mail is useless (its code has expired): not sent, and swept.
    send_until  timestamptz NOT NULL,
    -- When a node should try (again): null once settled. A node sending it pushes it ahead
    -- (a lease), so another node takes it only if the first died.
    next_at     timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    -- pending, sent (an SMTP server took it), recorded (no SMTP: the outbox), retrying,
    -- failed, expired
    outcome     text NOT NULL DEFAULT 'pending',
    detail      text,
    sent_at     timestamptz
);
CREATE INDEX mails_next ON mails (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX mails_send_until ON mails (send_until);
CREATE INDEX mails_user ON mails (user_id);
