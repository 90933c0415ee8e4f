-- A queued webhook keeps its event id (the webhook-id header), so that a
-- redelivery after a restart carries the id of the first attempt. Rows
-- queued before this version get a random id now, kept from then on: a
-- version 4 UUID, written as new webhooks' ids are (8-4-4-4-12 lower-case
-- hex digits).

-- +goose Up
ALTER TABLE outbox ADD COLUMN event_id TEXT NOT NULL DEFAULT '';
UPDATE outbox SET event_id = lower(hex(randomblob(16))) WHERE event_id = '';
UPDATE outbox SET event_id = substr(event_id, 1, 8) || '-' || substr(event_id, 9, 4) || '-4' ||
    substr(event_id, 14, 3) || '-' || substr('89ab', 1 + (unicode(substr(event_id, 17, 1)) % 4), 1) ||
    substr(event_id, 18, 3) || '-' || substr(event_id, 21, 12)
  WHERE length(event_id) = 32;

-- +goose Down
ALTER TABLE outbox DROP COLUMN event_id;
