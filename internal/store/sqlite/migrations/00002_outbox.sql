-- +goose Up
-- Asynchronous webhooks waiting for delivery, in the order they were queued.
CREATE TABLE outbox (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT    NOT NULL REFERENCES calls (call_id),
    data    BLOB    NOT NULL
);

-- +goose Down
DROP TABLE outbox;
