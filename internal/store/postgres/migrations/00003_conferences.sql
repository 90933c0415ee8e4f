-- Conferences, so that they outlive the node that ran them. seq is the
-- creation order: assigned on the first save, kept on every later one.
-- Times are timestamptz, NULL for the zero time.

-- +goose Up
CREATE TABLE conferences (
    id              text        PRIMARY KEY,
    seq             bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    account_id      text        NOT NULL,
    name            text        NOT NULL,
    created         timestamptz,
    completed       timestamptz,
    event_url       text        NOT NULL,
    event_method    text        NOT NULL,
    tag             text,
    creator_call_id text        NOT NULL,
    members         jsonb       NOT NULL,
    joined          jsonb       NOT NULL
);
CREATE INDEX conferences_account ON conferences (account_id, seq);
CREATE INDEX conferences_active ON conferences (seq) WHERE completed IS NULL;

-- +goose Down
DROP TABLE conferences;
