-- Conferences, so that they outlive the node that ran them. seq is the
-- creation order: assigned on the first save, kept on every later one.
-- Members and Joined are JSON arrays; times are Unix nanoseconds, NULL for
-- the zero time.

-- +goose Up
CREATE TABLE conferences (
    id              TEXT    PRIMARY KEY,
    seq             INTEGER NOT NULL UNIQUE,
    account_id      TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    created         INTEGER,
    completed       INTEGER,
    event_url       TEXT    NOT NULL,
    event_method    TEXT    NOT NULL,
    tag             TEXT,
    creator_call_id TEXT    NOT NULL,
    members         TEXT    NOT NULL,
    joined          TEXT    NOT NULL
) STRICT;
CREATE INDEX conferences_account ON conferences (account_id, seq);
CREATE INDEX conferences_active ON conferences (seq) WHERE completed IS NULL;

-- +goose Down
DROP TABLE conferences;
