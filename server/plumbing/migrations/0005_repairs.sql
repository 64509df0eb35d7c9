-- Repairs the partners step through together. Step titles and prompts live in the code (so
-- their wording can improve); a row keeps who ticked what, and each partner's notes.

CREATE TABLE repairs (
    couple_id  uuid NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    id         uuid NOT NULL,
    template   text NOT NULL,
    title      text NOT NULL,
    pause_id   uuid,
    started_by uuid,
    started_at timestamptz NOT NULL,
    state      text NOT NULL CHECK (state IN ('open', 'finished', 'abandoned')),
    ended_at   timestamptz,
    ended_by   uuid,
    -- {step_key: {"done": {user_id: instant}, "notes": {user_id: text}}}
    marks      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (couple_id, id)
);
CREATE INDEX repairs_open ON repairs (couple_id) WHERE state = 'open';
