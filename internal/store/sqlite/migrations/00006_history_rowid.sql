-- History moves from a WITHOUT ROWID table keyed by (call_id, seq) to a
-- rowid table with that key in an index. Entries carry webhook bodies of
-- hundreds of bytes: kept inside the key's B-tree, every insert (at a
-- random place, call ids being random) moved them around when a page split,
-- which made appending history the costliest part of a commit. Now an entry
-- is appended at the table's end and only its small key goes into the
-- index. Entries and their order are kept.

-- +goose Up
CREATE TABLE history_rows (
    id      INTEGER PRIMARY KEY,
    call_id TEXT    NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    -- seq numbers a call's entries from 1 in the order they were appended.
    seq     INTEGER NOT NULL,
    time    INTEGER,
    kind    TEXT    NOT NULL,
    summary TEXT    NOT NULL,
    detail  BLOB
) STRICT;
INSERT INTO history_rows (call_id, seq, time, kind, summary, detail)
    SELECT call_id, seq, time, kind, summary, detail FROM history ORDER BY call_id, seq;
DROP TABLE history;
ALTER TABLE history_rows RENAME TO history;
CREATE UNIQUE INDEX history_by_call ON history (call_id, seq);

-- +goose Down
CREATE TABLE history_keyed (
    call_id TEXT    NOT NULL REFERENCES calls (call_id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    time    INTEGER,
    kind    TEXT    NOT NULL,
    summary TEXT    NOT NULL,
    detail  BLOB,
    PRIMARY KEY (call_id, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO history_keyed SELECT call_id, seq, time, kind, summary, detail FROM history;
DROP TABLE history;
ALTER TABLE history_keyed RENAME TO history;
