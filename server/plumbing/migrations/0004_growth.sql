-- The private growth log: one person's own record, never part of a couple's shared data.
-- Keyed by the person, not the couple: it survives unlinking and goes with the account.

CREATE TABLE growth_entries (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    at          timestamptz NOT NULL,
    local_date  date NOT NULL,
    regulation  smallint NOT NULL CHECK (regulation BETWEEN 1 AND 7),
    needs       smallint NOT NULL CHECK (needs BETWEEN 1 AND 7),
    closeness   smallint NOT NULL CHECK (closeness BETWEEN 1 AND 7),
    leaning     text CHECK (leaning IN ('anxious', 'avoidant', 'secure')),
    note        text,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX growth_entries_by_date ON growth_entries (user_id, local_date);
