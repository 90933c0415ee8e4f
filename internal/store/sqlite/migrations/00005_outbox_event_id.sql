-- A queued webhook keeps its event id (the webhook-id header), so that a
-- redelivery after a restart carries the id of the first attempt. Rows
-- queued before this version get a random id now, kept from then on.

-- +goose Up
ALTER TABLE outbox ADD COLUMN event_id TEXT NOT NULL DEFAULT '';
UPDATE outbox SET event_id = lower(hex(randomblob(16))) WHERE event_id = '';

-- +goose Down
ALTER TABLE outbox DROP COLUMN event_id;
