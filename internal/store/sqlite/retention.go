package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// The statements of retention. Each compares state or completed with a
// literal, so that SQLite uses the partial indexes of migration 9.
//
// A call whose webhooks are still queued (its disconnect waiting for an
// application that is down, retried for as long as --retry-webhooks says)
// is not expired: it goes on a later sweep, once the outbox no longer
// holds any of its webhooks (outbox_by_call). A recording waits while it
// is processing (its audio still being encoded) and while its call is
// live or its conference active.
const (
	selectEndedCalls = "SELECT seq, call_id FROM calls WHERE state = '" + string(engine.StateDisconnected) +
		"' AND end_time < ? AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.call_id = calls.call_id) ORDER BY end_time LIMIT ?"
	// A call's history goes with it (ON DELETE CASCADE).
	deleteCallBySeq = "DELETE FROM calls WHERE seq = ?"

	deleteCompletedConferences = "DELETE FROM conferences WHERE id IN (SELECT id FROM conferences WHERE completed IS NOT NULL AND completed < ? ORDER BY completed LIMIT ?) RETURNING id"
	// The record is JSON text in a BLOB column: the cast makes
	// json_extract read it as text.
	deleteOldRecordings = `DELETE FROM recordings WHERE recording_id IN (
		SELECT r.recording_id FROM recordings r WHERE r.start_time < ?
		AND json_extract(CAST(r.data AS TEXT), '$.Status') IS NOT '` + string(callback.RecordingStatusProcessing) + `'
		AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.call_id = r.call_id AND c.state <> '` + string(engine.StateDisconnected) + `')
		AND NOT EXISTS (SELECT 1 FROM conferences f WHERE f.id = r.conference_id AND f.completed IS NULL)
		ORDER BY r.start_time LIMIT ?)
		RETURNING account_id, recording_id`
)

// Expire removes at most limit ended calls, limit completed conferences
// and limit recordings past the cutoffs (engine.Expirer), leaving those
// that wait (see above) to a later sweep. Each kind is one
// write of the group-commit writer: the writing connection is held for as
// long as limit rows take to delete, and other writes wait that long at
// most.
func (s *Store) Expire(ctx context.Context, before engine.ExpireBefore, limit int) (engine.Expired, error) {
	var out engine.Expired
	if limit <= 0 {
		return out, fmt.Errorf("sqlite: expire: limit %d: want 1 or more", limit)
	}
	if !before.Calls.IsZero() {
		calls, err := s.expireCalls(ctx, timeBound(before.Calls), limit)
		if err != nil {
			return out, fmt.Errorf("sqlite: expire calls ended before %s: %w", before.Calls.UTC().Format(time.RFC3339), err)
		}
		out.Calls = calls
		if out.Conferences, err = s.expireConferences(ctx, timeBound(before.Calls), limit); err != nil {
			return out, fmt.Errorf("sqlite: expire conferences completed before %s: %w", before.Calls.UTC().Format(time.RFC3339), err)
		}
	}
	if !before.Recordings.IsZero() {
		recs, err := s.expireRecordings(ctx, timeBound(before.Recordings), limit)
		if err != nil {
			return out, fmt.Errorf("sqlite: expire recordings started before %s: %w", before.Recordings.UTC().Format(time.RFC3339), err)
		}
		out.Recordings = recs
	}
	return out, nil
}

func (s *Store) expireCalls(ctx context.Context, before int64, limit int) ([]string, error) {
	var ids []string
	err := s.do(ctx, func(tx *txn) error {
		ids = ids[:0] // a batch may run a write twice
		rows, err := tx.QueryContext(ctx, selectEndedCalls, before, limit)
		if err != nil {
			return err
		}
		var seqs []int64
		for rows.Next() {
			var seq int64
			var id string
			if err := rows.Scan(&seq, &id); err != nil {
				rows.Close()
				return err
			}
			seqs, ids = append(seqs, seq), append(ids, id)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for i, seq := range seqs {
			if _, err := tx.ExecContext(ctx, deleteCallBySeq, seq); err != nil {
				return fmt.Errorf("delete call %s: %w", ids[i], err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func (s *Store) expireConferences(ctx context.Context, before int64, limit int) ([]string, error) {
	var ids []string
	err := s.do(ctx, func(tx *txn) error {
		ids = ids[:0]
		rows, err := tx.QueryContext(ctx, deleteCompletedConferences, before, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func (s *Store) expireRecordings(ctx context.Context, before int64, limit int) ([]engine.ExpiredRecording, error) {
	var recs []engine.ExpiredRecording
	err := s.do(ctx, func(tx *txn) error {
		recs = recs[:0]
		rows, err := tx.QueryContext(ctx, deleteOldRecordings, before, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r engine.ExpiredRecording
			if err := rows.Scan(&r.AccountID, &r.RecordingID); err != nil {
				return err
			}
			recs = append(recs, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return recs, nil
}

var _ engine.Expirer = (*Store)(nil)
