-- Retention (Store.Expire) keeps a call while the outbox holds any of its
-- webhooks, and deleting a call checks the outbox's foreign key: both
-- look the call's webhooks up by this index rather than reading the
-- whole outbox.

-- +goose Up
CREATE INDEX outbox_by_call ON outbox (call_id);

-- +goose Down
DROP INDEX outbox_by_call;
