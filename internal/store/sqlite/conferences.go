package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/voicehook/voicehook/internal/engine"
)

// upsertConference inserts a conference at the end of the creation order,
// or replaces it where it is.
const upsertConference = `INSERT INTO conferences (id, seq, account_id, name, created, completed, event_url, event_method, tag, creator_call_id, members, joined)
	VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM conferences), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, name = excluded.name, created = excluded.created,
		completed = excluded.completed, event_url = excluded.event_url, event_method = excluded.event_method, tag = excluded.tag,
		creator_call_id = excluded.creator_call_id, members = excluded.members, joined = excluded.joined`

const selectConference = `SELECT id, account_id, name, created, completed, event_url, event_method, tag, creator_call_id, members, joined FROM conferences`

// SaveConference inserts a conference or replaces it; a replaced one keeps
// its place in the creation order.
func (s *Store) SaveConference(ctx context.Context, c engine.Conference) error {
	if c.ID == "" {
		return errors.New("sqlite: save conference: empty id")
	}
	args, err := conferenceArgs(c)
	if err != nil {
		return fmt.Errorf("sqlite: save conference %s: %w", c.ID, err)
	}
	err = s.do(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, upsertConference, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save conference %s: %w", c.ID, err)
	}
	return nil
}

// GetConference returns a conference of the account, or an error wrapping
// engine.ErrNotFound.
func (s *Store) GetConference(ctx context.Context, accountID, id string) (*engine.Conference, error) {
	list, err := s.queryConferences(ctx, selectConference+" WHERE id = ? AND account_id = ?", id, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get conference %s: %w", id, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("sqlite: get conference %s: %w", id, engine.ErrNotFound)
	}
	return &list[0], nil
}

// ListConferences returns the account's conferences that match f, in
// creation order. Bounds on the creation time are inclusive; f.After that
// names no conference gives an empty list.
func (s *Store) ListConferences(ctx context.Context, f engine.ConferenceFilter) ([]engine.Conference, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("sqlite: list conferences: negative limit %d", f.Limit)
	}
	where := []string{"account_id = ?"}
	args := []any{f.AccountID}
	if f.Name != "" {
		where = append(where, "name = ?")
		args = append(args, f.Name)
	}
	if !f.MinCreated.IsZero() {
		where = append(where, "created >= ?")
		args = append(args, timeBound(f.MinCreated))
	}
	if !f.MaxCreated.IsZero() {
		where = append(where, "created <= ?")
		args = append(args, timeBound(f.MaxCreated))
	}
	if f.After != "" {
		// NULL, and so no row, when After names no conference.
		where = append(where, "seq > (SELECT seq FROM conferences WHERE id = ?)")
		args = append(args, f.After)
	}
	q := selectConference + " WHERE " + strings.Join(where, " AND ") + " ORDER BY seq"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	list, err := s.queryConferences(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list conferences: %w", err)
	}
	return list, nil
}

// ActiveConferences returns the conferences not completed, of every
// account, in creation order.
func (s *Store) ActiveConferences(ctx context.Context) ([]engine.Conference, error) {
	list, err := s.queryConferences(ctx, selectConference+" WHERE completed IS NULL ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("sqlite: active conferences: %w", err)
	}
	return list, nil
}

// conferenceArgs returns the column values of c, in upsertConference's
// order.
func conferenceArgs(c engine.Conference) ([]any, error) {
	created, err := timeArg(c.CreatedTime)
	if err != nil {
		return nil, fmt.Errorf("created time: %w", err)
	}
	completed, err := timeArg(c.CompletedTime)
	if err != nil {
		return nil, fmt.Errorf("completed time: %w", err)
	}
	members, err := json.Marshal(nonNil(c.Members))
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	joined, err := json.Marshal(nonNil(c.Joined))
	if err != nil {
		return nil, fmt.Errorf("joined: %w", err)
	}
	var tag sql.NullString
	if c.Tag != nil {
		tag = sql.NullString{String: *c.Tag, Valid: true}
	}
	return []any{c.ID, c.AccountID, c.Name, created, completed, c.EventURL, c.EventMethod, tag,
		c.CreatorCallID, string(members), string(joined)}, nil
}

// nonNil returns s, or an empty slice for nil: stored as [], not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Store) queryConferences(ctx context.Context, q string, args ...any) ([]engine.Conference, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Conference
	for rows.Next() {
		var c engine.Conference
		var created, completed sql.NullInt64
		var tag sql.NullString
		var members, joined string
		if err := rows.Scan(&c.ID, &c.AccountID, &c.Name, &created, &completed, &c.EventURL, &c.EventMethod, &tag,
			&c.CreatorCallID, &members, &joined); err != nil {
			return nil, err
		}
		c.CreatedTime, c.CompletedTime = timeOf(created), timeOf(completed)
		if tag.Valid {
			c.Tag = &tag.String
		}
		if err := json.Unmarshal([]byte(members), &c.Members); err != nil {
			return nil, fmt.Errorf("conference %s: unreadable members: %w", c.ID, err)
		}
		if err := json.Unmarshal([]byte(joined), &c.Joined); err != nil {
			return nil, fmt.Errorf("conference %s: unreadable joined calls: %w", c.ID, err)
		}
		// Empty lists come back nil, as the engine makes them.
		if len(c.Members) == 0 {
			c.Members = nil
		}
		if len(c.Joined) == 0 {
			c.Joined = nil
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

var _ engine.ConferenceStore = (*Store)(nil)
