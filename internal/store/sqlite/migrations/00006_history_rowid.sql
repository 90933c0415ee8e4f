-- History moves from a WITHOUT ROWID table keyed by (call_id, seq) to a
-- rowid table whose entries name their call by its seq, the creation order.
-- Entries carry webhook bodies of hundreds of bytes: kept inside a B-tree
-- keyed by random call ids, every commit dirtied a page per call it wrote
-- to, and inserts moved the bodies around when a page split. Now an entry
-- is appended at the table's end, and its key, two integers, goes into an
-- index where the live calls, the newest, sit together at the end. Entries
-- and their order are kept; a foreign key has always kept entries of
-- unknown calls out.

-- +goose Up
CREATE TABLE history_rows (
    id       INTEGER PRIMARY KEY,
    call_seq INTEGER NOT NULL REFERENCES calls (seq) ON DELETE CASCADE,
    -- seq numbers a call's entries from 1 in the order they were appended.
    seq      INTEGER NOT NULL,
    time     INTEGER,
    kind     TEXT    NOT NULL,
    summary  TEXT    NOT NULL,
    detail   BLOB
) STRICT;
INSERT INTO history_rows (call_seq, seq, time, kind, summary, detail)
    SELECT c.seq, h.seq, h.time, h.kind, h.summary, h.detail
    FROM history h JOIN calls c ON c.call_id = h.call_id ORDER BY c.seq, h.seq;
DROP TABLE history;
ALTER TABLE history_rows RENAME TO history;
CREATE UNIQUE INDEX history_by_call ON history (call_seq, seq);

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
INSERT INTO history_keyed
    SELECT c.call_id, h.seq, h.time, h.kind, h.summary, h.detail
    FROM history h JOIN calls c ON c.seq = h.call_seq;
DROP TABLE history;
ALTER TABLE history_keyed RENAME TO history;
