package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/voicehook/voicehook/internal/engine"
)

// upsertConference inserts a conference at the end of the creation order,
// or replaces it where it is.
const upsertConference = `INSERT INTO conferences (id, account_id, name, created, completed, event_url, event_method, tag, creator_call_id, members, joined)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, name = excluded.name, created = excluded.created,
		completed = excluded.completed, event_url = excluded.event_url, event_method = excluded.event_method, tag = excluded.tag,
		creator_call_id = excluded.creator_call_id, members = excluded.members, joined = excluded.joined`

const selectConference = `SELECT id, account_id, name, created, completed, event_url, event_method, tag, creator_call_id, members, joined FROM conferences`

// SaveConference inserts a conference or replaces it; a replaced one keeps
// its place in the creation order.
func (s *Store) SaveConference(ctx context.Context, c engine.Conference) error {
	if c.ID == "" {
		return errors.New("postgres: save conference: empty id")
	}
	args, err := conferenceArgs(c)
	if err != nil {
		return fmt.Errorf("postgres: save conference %s: %w", c.ID, err)
	}
	ctx, cancel, err := writeContext(ctx)
	if err != nil {
		return fmt.Errorf("postgres: save conference %s: %w", c.ID, err)
	}
	defer cancel()
	if _, err := s.pool.Exec(ctx, upsertConference, args...); err != nil {
		return fmt.Errorf("postgres: save conference %s: %w", c.ID, err)
	}
	return nil
}

// GetConference returns a conference of the account, or an error wrapping
// engine.ErrNotFound.
func (s *Store) GetConference(ctx context.Context, accountID, id string) (*engine.Conference, error) {
	list, err := s.queryConferences(ctx, selectConference+" WHERE id = $1 AND account_id = $2", id, accountID)
	if err != nil {
		return nil, fmt.Errorf("postgres: get conference %s: %w", id, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("postgres: get conference %s: %w", id, engine.ErrNotFound)
	}
	return &list[0], nil
}

// ListConferences returns the account's conferences that match f, in
// creation order. Bounds on the creation time are inclusive; f.After that
// names no conference gives an empty list.
func (s *Store) ListConferences(ctx context.Context, f engine.ConferenceFilter) ([]engine.Conference, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("postgres: list conferences: negative limit %d", f.Limit)
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"account_id = " + arg(f.AccountID)}
	if f.Name != "" {
		where = append(where, "name = "+arg(f.Name))
	}
	if !f.MinCreated.IsZero() {
		where = append(where, "created >= "+arg(timeBound(f.MinCreated)))
	}
	if !f.MaxCreated.IsZero() {
		where = append(where, "created <= "+arg(timeBound(f.MaxCreated)))
	}
	if f.After != "" {
		// NULL, and so no row, when After names no conference.
		where = append(where, "seq > (SELECT seq FROM conferences WHERE id = "+arg(f.After)+")")
	}
	q := selectConference + " WHERE " + strings.Join(where, " AND ") + " ORDER BY seq"
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit)
	}
	list, err := s.queryConferences(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list conferences: %w", err)
	}
	return list, nil
}

// ActiveConferences returns the conferences not completed, of every
// account, in creation order.
func (s *Store) ActiveConferences(ctx context.Context) ([]engine.Conference, error) {
	list, err := s.queryConferences(ctx, selectConference+" WHERE completed IS NULL ORDER BY seq")
	if err != nil {
		return nil, fmt.Errorf("postgres: active conferences: %w", err)
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
	tag := pgtype.Text{}
	if c.Tag != nil {
		tag = pgtype.Text{String: *c.Tag, Valid: true}
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
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []engine.Conference
	for rows.Next() {
		var c engine.Conference
		var created, completed pgtype.Timestamptz
		var tag pgtype.Text
		var members, joined []byte
		if err := rows.Scan(&c.ID, &c.AccountID, &c.Name, &created, &completed, &c.EventURL, &c.EventMethod, &tag,
			&c.CreatorCallID, &members, &joined); err != nil {
			return nil, err
		}
		c.CreatedTime, c.CompletedTime = timeOf(created), timeOf(completed)
		if tag.Valid {
			c.Tag = &tag.String
		}
		if err := json.Unmarshal(members, &c.Members); err != nil {
			return nil, fmt.Errorf("conference %s: unreadable members: %w", c.ID, err)
		}
		if err := json.Unmarshal(joined, &c.Joined); err != nil {
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
