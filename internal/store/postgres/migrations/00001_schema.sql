-- The schema of a voicehook database on PostgreSQL: calls, their
-- histories, the webhook outbox and the records of recordings. Times are
-- timestamptz (microseconds), NULL for the zero time; durations are
-- nanoseconds in a bigint.

-- +goose Up
CREATE TABLE calls (
    -- seq is the creation order: assigned on the first save, kept on every
    -- later save, never reused.
    seq                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id                text        NOT NULL UNIQUE,
    account_id             text        NOT NULL,
    application_id         text        NOT NULL,
    parent_call_id         text        NOT NULL,
    to_number              text        NOT NULL,
    from_number            text        NOT NULL,
    direction              text        NOT NULL,
    state                  text        NOT NULL,
    enqueued_time          timestamptz,
    start_time             timestamptz,
    answer_time            timestamptz,
    end_time               timestamptz,
    last_update            timestamptz,
    disconnect_cause       text        NOT NULL,
    error_message          text        NOT NULL,
    error_id               text        NOT NULL,
    sip_response_code      integer     NOT NULL,
    -- tag is NULL when no tag is set, '' for an empty tag.
    tag                    text,
    answer_url             text        NOT NULL,
    answer_method          text        NOT NULL,
    answer_fallback_url    text        NOT NULL,
    answer_fallback_method text        NOT NULL,
    username               text        NOT NULL,
    password               text        NOT NULL,
    fallback_username      text        NOT NULL,
    fallback_password      text        NOT NULL,
    disconnect_url         text        NOT NULL,
    disconnect_method      text        NOT NULL,
    call_timeout           bigint      NOT NULL,
    callback_timeout       bigint      NOT NULL,
    priority               bigint      NOT NULL,
    display_name           text        NOT NULL,
    uui                    text        NOT NULL,
    -- privacy is NULL when unset.
    privacy                boolean
);

-- ListCalls of one account, in creation order.
CREATE INDEX calls_by_account ON calls (account_id, seq);

-- LiveCalls: only the calls not yet disconnected are indexed.
CREATE INDEX calls_live ON calls (seq) WHERE state <> 'disconnected';

-- The console finds a call's B-legs by their parent.
CREATE INDEX calls_by_parent ON calls (parent_call_id) WHERE parent_call_id <> '';

-- A call's history is its entries in id order. The id is global, not per
-- call, so that concurrent appends never race for the same number.
CREATE TABLE history (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id text   NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    time    timestamptz,
    kind    text   NOT NULL,
    summary text   NOT NULL,
    detail  bytea
);
CREATE INDEX history_by_call ON history (call_id, id);

-- Asynchronous webhooks waiting for delivery, in the order they were
-- queued. event_id is the webhook-id header, kept for redeliveries.
CREATE TABLE outbox (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id  text   NOT NULL REFERENCES calls (call_id),
    event_id text   NOT NULL,
    data     bytea  NOT NULL
);

-- Call recordings. The audio is a file in the recordings directory; this
-- is its record, kept as JSON with the columns listings filter on.
CREATE TABLE recordings (
    recording_id  text        PRIMARY KEY,
    seq           bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    account_id    text        NOT NULL,
    call_id       text        NOT NULL, -- '' for a conference recording
    conference_id text        NOT NULL, -- '' for a call recording
    to_number     text        NOT NULL,
    from_number   text        NOT NULL,
    start_time    timestamptz NOT NULL,
    data          jsonb       NOT NULL
);
CREATE INDEX recordings_call ON recordings (call_id, seq);
CREATE INDEX recordings_account ON recordings (account_id, seq);
CREATE INDEX recordings_conference ON recordings (conference_id, seq);

-- +goose Down
DROP TABLE recordings;
DROP TABLE outbox;
DROP TABLE history;
DROP TABLE calls;
