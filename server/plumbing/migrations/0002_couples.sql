-- Couples, the invites that link them, and the couple's event log.
-- Every table holding couple data leads its key with couple_id: it is the future shard key.

CREATE TABLE couples (
    id                    uuid PRIMARY KEY,
    linked_at             timestamptz NOT NULL,
    unlinked_at           timestamptz,
    head                  bigint NOT NULL DEFAULT 0,
    safe_word             text,
    default_pause_minutes integer NOT NULL DEFAULT 20
        CHECK (default_pause_minutes BETWEEN 20 AND 240),
    reading_time          text NOT NULL DEFAULT '21:00',
    reading_timezone      text NOT NULL
);

ALTER TABLE users
    ADD CONSTRAINT users_couple_fk FOREIGN KEY (couple_id) REFERENCES couples (id);

-- Who was in a couple, kept after unlinking so each can still export their copy.
CREATE TABLE couple_partners (
    couple_id uuid NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at timestamptz NOT NULL,
    PRIMARY KEY (couple_id, user_id)
);
CREATE INDEX couple_partners_user ON couple_partners (user_id);

CREATE TABLE invites (
    code       text PRIMARY KEY,
    inviter_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    used_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    revoked_at timestamptz
);
CREATE INDEX invites_inviter ON invites (inviter_id);

CREATE TABLE events (
    couple_id uuid NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    seq       bigint NOT NULL,
    kind      text NOT NULL,
    -- No foreign key: an erased account's events stay in the partner's copy, unattributed.
    actor_id  uuid,
    at        timestamptz NOT NULL,
    body      jsonb NOT NULL,
    PRIMARY KEY (couple_id, seq)
);
