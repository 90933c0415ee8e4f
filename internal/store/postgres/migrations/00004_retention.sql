-- Retention (Store.Expire) finds the oldest ended calls, completed
-- conferences and recordings by these indexes. The partial indexes hold
-- only the rows that can expire: a live call or conference is not in
-- them, so that updates of live calls do not maintain them.

-- +goose Up
CREATE INDEX calls_ended ON calls (end_time) WHERE state = 'disconnected';
CREATE INDEX conferences_completed ON conferences (completed) WHERE completed IS NOT NULL;
CREATE INDEX recordings_started ON recordings (start_time);

-- +goose Down
DROP INDEX recordings_started;
DROP INDEX conferences_completed;
DROP INDEX calls_ended;
