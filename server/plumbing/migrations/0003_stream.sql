-- The op pipeline's memory of applied ops, the first practice's state (pauses), and which
-- sockets are live on which server node (presence and the per-user socket limit).

-- One row per applied op: a retry of the same op_id by the same user gets this answer again.
CREATE TABLE op_results (
    couple_id uuid NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    op_id     uuid NOT NULL,
    kind      text NOT NULL,
    seq       bigint,
    result    jsonb,
    at        timestamptz NOT NULL,
    PRIMARY KEY (couple_id, user_id, op_id)
);

CREATE TABLE pauses (
    couple_id       uuid NOT NULL REFERENCES couples (id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    started_by      uuid,
    started_at      timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    minutes         integer NOT NULL CHECK (minutes BETWEEN 1 AND 240),
    note            text,
    acknowledged_at timestamptz,
    state           text NOT NULL CHECK (state IN ('active', 'ended', 'expired')),
    ended_at        timestamptz,
    ended_by        uuid,
    PRIMARY KEY (couple_id, id)
);
-- At most one active pause per couple, whatever races.
CREATE UNIQUE INDEX pauses_one_active ON pauses (couple_id) WHERE state = 'active';

-- Server nodes, each beating its heart here; a node silent too long is taken for dead.
CREATE UNLOGGED TABLE nodes (
    id           uuid PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- Every open, authenticated socket, on whichever node holds it (couple_id is null while its
-- user is not linked yet). Unlogged: a database crash empties it, and each node then
-- registers its sockets again.
CREATE UNLOGGED TABLE live_sockets (
    socket_id  uuid PRIMARY KEY,
    couple_id  uuid,
    user_id    uuid NOT NULL,
    session_id uuid NOT NULL,
    node_id    uuid NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    opened_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX live_sockets_couple ON live_sockets (couple_id, user_id);
CREATE INDEX live_sockets_user ON live_sockets (user_id);
CREATE INDEX live_sockets_node ON live_sockets (node_id);
