-- A call keeps the state of its SIP dialog (engine.Call.Dialog), so that
-- voicehook can end the dialog with a BYE after a crash; NULL for none.

-- +goose Up
ALTER TABLE calls ADD COLUMN dialog BLOB;

-- +goose Down
ALTER TABLE calls DROP COLUMN dialog;
