-- +goose Up
-- Call recordings. The audio is a file beside the database; this is its
-- record, kept as JSON with the columns listings filter on.
CREATE TABLE recordings (
    recording_id TEXT    PRIMARY KEY,
    seq          INTEGER NOT NULL,
    account_id   TEXT    NOT NULL,
    call_id      TEXT    NOT NULL, -- '' for a conference recording
    conference_id TEXT   NOT NULL, -- '' for a call recording
    to_number    TEXT    NOT NULL,
    from_number  TEXT    NOT NULL,
    start_time   INTEGER NOT NULL,
    data         BLOB    NOT NULL
);
CREATE INDEX recordings_call ON recordings (call_id, seq);
CREATE INDEX recordings_account ON recordings (account_id, seq);
CREATE INDEX recordings_conference ON recordings (conference_id, seq);

-- +goose Down
DROP TABLE recordings;
