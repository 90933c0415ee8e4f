-- The console finds a call's B-legs by their parent.

-- +goose Up
CREATE INDEX calls_by_parent ON calls (parent_call_id) WHERE parent_call_id <> '';

-- +goose Down
DROP INDEX calls_by_parent;
