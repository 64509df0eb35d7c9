-- Daily Temperature Readings: one per couple per local evening, entries kept in the row (a
-- reading holds tens of entries, read and written whole).

CREATE TABLE readings (
    couple_id   uuid NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    local_date  date NOT NULL,
    started_by  uuid,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    -- {section: [user_id, ...]}: who is done with which section
    done_by     jsonb NOT NULL DEFAULT '{}',
    -- [{id, author_id, section, text, request, at}, ...] in the order written
    entries     jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (couple_id, id),
    UNIQUE (couple_id, local_date)
);
