package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/voicehook/voicehook/internal/engine"
)

// SaveRecording inserts a recording's record or replaces it. A replaced
// record keeps its place in the order of listings.
func (s *Store) SaveRecording(ctx context.Context, r *engine.Recording) error {
	if r == nil {
		return errors.New("postgres: save recording: nil recording")
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("postgres: save recording %s: %w", r.RecordingID, err)
	}
	start, err := timeArg(r.StartTime)
	if err != nil {
		return fmt.Errorf("postgres: save recording %s: start time: %w", r.RecordingID, err)
	}
	if !start.Valid {
		start.Time, start.Valid = minTime, true // the column is NOT NULL
	}
	ctx, cancel, err := writeContext(ctx)
	if err != nil {
		return fmt.Errorf("postgres: save recording %s: %w", r.RecordingID, err)
	}
	defer cancel()
	_, err = s.pool.Exec(ctx, `INSERT INTO recordings (recording_id, account_id, call_id, conference_id, to_number, from_number, start_time, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (recording_id) DO UPDATE SET data = excluded.data`,
		r.RecordingID, r.AccountID, r.CallID, r.ConferenceID, r.To, r.From, start, string(data))
	if err != nil {
		return fmt.Errorf("postgres: save recording %s: %w", r.RecordingID, err)
	}
	return nil
}

// GetRecording returns a recording of the account, or an error wrapping
// engine.ErrNotFound.
func (s *Store) GetRecording(ctx context.Context, accountID, recordingID string) (*engine.Recording, error) {
	list, err := s.queryRecordings(ctx, "WHERE recording_id = $1 AND account_id = $2", recordingID, accountID)
	if err != nil {
		return nil, fmt.Errorf("postgres: get recording %s: %w", recordingID, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("postgres: get recording %s: %w", recordingID, engine.ErrNotFound)
	}
	return list[0], nil
}

// ListRecordings returns the recordings that match f, oldest first: a
// listing is of call recordings, or of one conference's. Bounds on the
// start time are inclusive.
func (s *Store) ListRecordings(ctx context.Context, f engine.RecordingFilter) ([]*engine.Recording, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("postgres: list recordings: negative limit %d", f.Limit)
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where = append(where, "account_id = "+arg(f.AccountID), "conference_id = "+arg(f.ConferenceID))
	for _, c := range []struct{ col, v string }{{"call_id", f.CallID}, {"to_number", f.To}, {"from_number", f.From}} {
		if c.v != "" {
			where = append(where, c.col+" = "+arg(c.v))
		}
	}
	if !f.MinStartTime.IsZero() {
		where = append(where, "start_time >= "+arg(timeBound(f.MinStartTime)))
	}
	if !f.MaxStartTime.IsZero() {
		where = append(where, "start_time <= "+arg(timeBound(f.MaxStartTime)))
	}
	q := "WHERE " + strings.Join(where, " AND ") + " ORDER BY seq"
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	list, err := s.queryRecordings(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list recordings: %w", err)
	}
	return list, nil
}

// DeleteRecording removes a recording's record, or returns an error
// wrapping engine.ErrNotFound when the account has no such recording.
func (s *Store) DeleteRecording(ctx context.Context, accountID, recordingID string) error {
	ctx, cancel, err := writeContext(ctx)
	if err != nil {
		return fmt.Errorf("postgres: delete recording %s: %w", recordingID, err)
	}
	defer cancel()
	tag, err := s.pool.Exec(ctx, "DELETE FROM recordings WHERE recording_id = $1 AND account_id = $2", recordingID, accountID)
	if err == nil && tag.RowsAffected() == 0 {
		err = engine.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("postgres: delete recording %s: %w", recordingID, err)
	}
	return nil
}

func (s *Store) queryRecordings(ctx context.Context, where string, args ...any) ([]*engine.Recording, error) {
	rows, err := s.pool.Query(ctx, "SELECT data FROM recordings "+where, args...)
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
