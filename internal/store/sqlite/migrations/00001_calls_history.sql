-- Calls and their histories. Times are Unix nanoseconds in UTC, NULL for
-- the zero time; durations are nanoseconds.

-- +goose Up
CREATE TABLE calls (
    -- seq is the creation order: assigned on the first save, kept on every
    -- later save, never reused.
    seq                    INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id                TEXT    NOT NULL UNIQUE,
    account_id             TEXT    NOT NULL,
    application_id         TEXT    NOT NULL,
    parent_call_id         TEXT    NOT NULL,
    to_number              TEXT    NOT NULL,
    from_number            TEXT    NOT NULL,
    direction              TEXT    NOT NULL,
    state                  TEXT    NOT NULL,
    enqueued_time          INTEGER,
    start_time             INTEGER,
    answer_time            INTEGER,
    end_time               INTEGER,
    last_update            INTEGER,
    disconnect_cause       TEXT    NOT NULL,
    error_message          TEXT    NOT NULL,
    error_id               TEXT    NOT NULL,
    sip_response_code      INTEGER NOT NULL,
    -- tag is NULL when no tag is set, '' for an empty tag.
    tag                    TEXT,
    answer_url             TEXT    NOT NULL,
    answer_method          TEXT    NOT NULL,
    answer_fallback_url    TEXT    NOT NULL,
    answer_fallback_method TEXT    NOT NULL,
    username               TEXT    NOT NULL,
    password               TEXT    NOT NULL,
    fallback_username      TEXT    NOT NULL,
    fallback_password      TEXT    NOT NULL,
    disconnect_url         TEXT    NOT NULL,
    disconnect_method      TEXT    NOT NULL,
    call_timeout           INTEGER NOT NULL,
    callback_timeout       INTEGER NOT NULL,
    priority               INTEGER NOT NULL,
    display_name           TEXT    NOT NULL,
    uui                    TEXT    NOT NULL,
    -- privacy is NULL when unset, else 0 or 1.
    privacy                INTEGER CHECK (privacy IN (0, 1))
) STRICT;

-- ListCalls of one account, in creation order.
CREATE INDEX calls_by_account ON calls (account_id, seq);

-- LiveCalls: only the calls not yet disconnected are indexed, so the
-- index stays as small as the number of live calls.
CREATE INDEX calls_live ON calls (seq) WHERE state <> 'disconnected';

CREATE TABLE history (
    call_id TEXT    NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    -- seq numbers a call's entries from 1 in the order they were appended.
    seq     INTEGER NOT NULL,
    time    INTEGER,
    kind    TEXT    NOT NULL,
    summary TEXT    NOT NULL,
    detail  BLOB,
    PRIMARY KEY (call_id, seq)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE history;
DROP TABLE calls;
