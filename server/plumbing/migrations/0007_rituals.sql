-- Rituals of connection and each partner's check-ins, one per occurrence date.

CREATE TABLE rituals (
    couple_id             uuid NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    id                    uuid NOT NULL,
    title                 text NOT NULL,
    description           text,
    cadence               jsonb NOT NULL,
    at                    text NOT NULL,
    timezone              text NOT NULL,
    remind_minutes_before integer NOT NULL,
    status                text NOT NULL CHECK (status IN ('proposed', 'active', 'archived')),
    proposed_by           uuid,
    created_at            timestamptz NOT NULL,
    PRIMARY KEY (couple_id, id)
);
CREATE INDEX rituals_current ON rituals (couple_id) WHERE status <> 'archived';

CREATE TABLE ritual_checkins (
    couple_id uuid NOT NULL,
    ritual_id uuid NOT NULL,
    date      date NOT NULL,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    note      text,
    at        timestamptz NOT NULL,
    PRIMARY KEY (couple_id, ritual_id, date, user_id),
    FOREIGN KEY (couple_id, ritual_id) REFERENCES rituals (couple_id, id) ON DELETE CASCADE
);
