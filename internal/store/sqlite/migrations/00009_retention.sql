-- Retention (Store.Expire) finds the oldest ended calls, completed
-- conferences and recordings by these indexes, and deleting a call checks
-- its queued webhooks by outbox_by_call. The partial indexes hold only
-- the rows that can expire: a live call or conference is not in them.

-- +goose Up
CREATE INDEX calls_ended ON calls (end_time) WHERE state = 'disconnected';
CREATE INDEX conferences_completed ON conferences (completed) WHERE completed IS NOT NULL;
CREATE INDEX recordings_started ON recordings (start_time);
CREATE INDEX outbox_by_call ON outbox (call_id);

-- +goose Down
DROP INDEX outbox_by_call;
DROP INDEX recordings_started;
DROP INDEX conferences_completed;
DROP INDEX calls_ended;
