package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/voicehook/voicehook/internal/engine"
)

// SaveRecording inserts a recording's record or replaces it.
func (s *Store) SaveRecording(ctx context.Context, r *engine.Recording) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("sqlite: save recording %s: %w", r.RecordingID, err)
	}
	err = s.do(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO recordings (recording_id, seq, account_id, call_id, conference_id, to_number, from_number, start_time, data)
			VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM recordings), ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (recording_id) DO UPDATE SET data = excluded.data`,
			r.RecordingID, r.AccountID, r.CallID, r.ConferenceID, r.To, r.From, r.StartTime.UnixNano(), data)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save recording %s: %w", r.RecordingID, err)
	}
	return nil
}

// GetRecording returns a recording of the account, or an error wrapping
// engine.ErrNotFound.
func (s *Store) GetRecording(ctx context.Context, accountID, recordingID string) (*engine.Recording, error) {
	list, err := s.queryRecordings(ctx, "WHERE recording_id = ? AND account_id = ?", recordingID, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get recording %s: %w", recordingID, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("sqlite: get recording %s: %w", recordingID, engine.ErrNotFound)
	}
	return list[0], nil
}

// ListRecordings returns the recordings that match f, oldest first.
func (s *Store) ListRecordings(ctx context.Context, f engine.RecordingFilter) ([]*engine.Recording, error) {
	// A listing is of call recordings, or of one conference's.
	where := []string{"account_id = ?", "conference_id = ?"}
	args := []any{f.AccountID, f.ConferenceID}
	for _, c := range []struct {
		col string
		v   string
	}{{"call_id", f.CallID}, {"to_number", f.To}, {"from_number", f.From}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if !f.MinStartTime.IsZero() {
		where = append(where, "start_time >= ?")
		args = append(args, f.MinStartTime.UnixNano())
	}
	if !f.MaxStartTime.IsZero() {
		where = append(where, "start_time <= ?")
		args = append(args, f.MaxStartTime.UnixNano())
	}
	q := "WHERE " + strings.Join(where, " AND ") + " ORDER BY seq"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	list, err := s.queryRecordings(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list recordings: %w", err)
	}
	return list, nil
}

// DeleteRecording removes a recording's record.
func (s *Store) DeleteRecording(ctx context.Context, accountID, recordingID string) error {
	var n int64
	err := s.do(ctx, func(tx *txn) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM recordings WHERE recording_id = ? AND account_id = ?", recordingID, accountID)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err == nil && n == 0 {
		err = engine.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete recording %s: %w", recordingID, err)
	}
	return nil
}

func (s *Store) queryRecordings(ctx context.Context, where string, args ...any) ([]*engine.Recording, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT data FROM recordings "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*engine.Recording
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		r := new(engine.Recording)
		if err := json.Unmarshal(data, r); err != nil {
			return nil, errors.Join(errors.New("unreadable recording record"), err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
