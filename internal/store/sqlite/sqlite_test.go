package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/store/storetest"
)

// open opens a store on the file at path, closed when t ends.
func open(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStoreFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store {
		return open(t, filepath.Join(t.TempDir(), "voicehook.db"))
	})
}

func TestStoreMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store {
		return open(t, Memory)
	})
}

func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "voicehook.db")
	storetest.RunRestart(t, func(t *testing.T) engine.Store {
		return open(t, path)
	})
}

// TestMigrateOnce opens the same database three times: the migrations run
// the first time only, and each open finds the schema at its newest
// version.
func TestMigrateOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "voicehook.db")
	want, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		s := open(t, path)
		if i == 0 {
			if err := s.SaveCall(t.Context(), &engine.Call{AccountID: "A", CallID: "c-1"}); err != nil {
				t.Fatal(err)
			}
		}
		var applied, latest int64
		err := s.read.QueryRowContext(t.Context(),
			"SELECT COUNT(*), MAX(version_id) FROM goose_db_version WHERE is_applied AND version_id > 0").Scan(&applied, &latest)
		if err != nil {
			t.Fatalf("open %d: reading goose_db_version: %v", i+1, err)
		}
		if applied != int64(len(want)) || latest != int64(len(want)) {
			t.Errorf("open %d: %d migrations applied, up to version %d; want %d, up to %d", i+1, applied, latest, len(want), len(want))
		}
		if _, err := s.GetCall(t.Context(), "A", "c-1"); err != nil {
			t.Errorf("open %d: %v", i+1, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPragmas checks the settings of both the writing and the reading
// connections.
func TestPragmas(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "voicehook.db"))
	want := map[string]string{
		"journal_mode": "wal",
		"busy_timeout": fmt.Sprint(busyTimeoutMillis),
		"synchronous":  "1", // NORMAL
		"foreign_keys": "1",
	}
	for name, db := range map[string]*sql.DB{"write": s.write, "read": s.read} {
		for pragma, v := range want {
			var got string
			if err := db.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("%s: PRAGMA %s: %v", name, pragma, err)
			}
			if !strings.EqualFold(got, v) {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, pragma, got, v)
			}
		}
	}
	var qo string
	if err := s.read.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&qo); err != nil || qo != "1" {
		t.Errorf("read: PRAGMA query_only = %s, %v; want 1", qo, err)
	}
}

// TestLiveCallsIndex checks that LiveCalls reads the partial index of live
// calls, not the whole table.
func TestLiveCallsIndex(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "voicehook.db"))
	plan := queryPlan(t, s, liveCalls)
	if !strings.Contains(plan, "calls_live") {
		t.Errorf("LiveCalls plan does not use calls_live:\n%s", plan)
	}
	plan = queryPlan(t, s, selectCall+" WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?", "A", 0, 10)
	if !strings.Contains(plan, "calls_by_account") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("ListCalls plan does not use calls_by_account, or sorts:\n%s", plan)
	}
}

func queryPlan(t *testing.T, s *Store, q string, args ...any) string {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestFileNames opens files whose names hold characters that URIs give a
// meaning to.
func TestFileNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a?b=c.db", "a#b.db", "a%20b.db", "a b.db", "ünï.db"} {
		path := filepath.Join(dir, name)
		s := open(t, path)
		if err := s.SaveCall(t.Context(), &engine.Call{AccountID: "A", CallID: "c-1"}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Relative paths work too.
	t.Chdir(dir)
	open(t, "relative.db")
	if _, err := os.Stat(filepath.Join(dir, "relative.db")); err != nil {
		t.Error(err)
	}
}

func TestOpenErrors(t *testing.T) {
	for _, path := range []string{"", filepath.Join(t.TempDir(), "no", "such", "dir", "voicehook.db")} {
		s, err := Open(t.Context(), path)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", path)
		} else if !strings.HasPrefix(err.Error(), "sqlite: open") {
			t.Errorf("Open(%q): error %q does not say what failed", path, err)
		}
	}
	// A file that is not a database.
	path := filepath.Join(t.TempDir(), "text.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(t.Context(), path); err == nil {
		s.Close()
		t.Errorf("Open of a text file succeeded")
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "voicehook.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.SaveCall(t.Context(), &engine.Call{CallID: "c-1"}); err == nil {
		t.Error("SaveCall after Close succeeded")
	}
}

// TestTimeOutOfRange: a time that Unix nanoseconds cannot hold is an error
// that names the call and the field.
func TestTimeOutOfRange(t *testing.T) {
	s := open(t, Memory)
	c := &engine.Call{AccountID: "A", CallID: "c-1", EndTime: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}
	err := s.SaveCall(t.Context(), c)
	if err == nil || !strings.Contains(err.Error(), "c-1: end time") {
		t.Errorf("SaveCall of a time in 2300: error %v", err)
	}
	err = s.AppendHistory(t.Context(), engine.HistoryEntry{CallID: "c-1", Time: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err == nil {
		t.Error("AppendHistory of a time in 1600 succeeded")
	}
}

// TestTwoStoresOneFile: two stores on one file, as two processes would
// have, write at once; busy_timeout makes each wait for the other.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "voicehook.db")
	stores := []*Store{open(t, path), open(t, path)}
	var wg sync.WaitGroup
	for n, s := range stores {
		wg.Go(func() {
			for i := range 50 {
				id := fmt.Sprintf("c-%d-%d", n, i)
				if err := s.SaveCall(t.Context(), &engine.Call{AccountID: "A", CallID: id}); err != nil {
					t.Errorf("SaveCall(%s): %v", id, err)
					return
				}
				err := s.AppendHistory(t.Context(),
					engine.HistoryEntry{CallID: id, Kind: "state"}, engine.HistoryEntry{CallID: id, Kind: "verb"})
				if err != nil {
					t.Errorf("AppendHistory(%s): %v", id, err)
					return
				}
			}
		})
	}
	wg.Wait()
	list, err := stores[0].ListCalls(t.Context(), engine.CallFilter{AccountID: "A"})
	if err != nil || len(list) != 100 {
		t.Errorf("ListCalls = %d calls, %v; want 100", len(list), err)
	}
}

func TestErrorsNameTheCall(t *testing.T) {
	s := open(t, Memory)
	_, err := s.GetCall(t.Context(), "A", "c-none")
	if got, want := fmt.Sprint(err), "sqlite: get call c-none: not found"; got != want {
		t.Errorf("GetCall error = %q, want %q", got, want)
	}
	err = s.AppendHistory(t.Context(), engine.HistoryEntry{CallID: "c-none"})
	if got, want := fmt.Sprint(err), "sqlite: append history of call c-none: not found"; got != want {
		t.Errorf("AppendHistory error = %q, want %q", got, want)
	}
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("AppendHistory error does not wrap engine.ErrNotFound")
	}
}

// TestOutboxEventIDMigration: a webhook queued by a version without event
// ids gets one when the database is upgraded, and keeps it.
func TestOutboxEventIDMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "voicehook.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 4); err != nil {
		t.Fatal(err)
	}
	// Foreign keys are off on this connection: no call row is needed.
	if _, err := db.Exec("INSERT INTO outbox (call_id, data) VALUES ('c-old', x'7b7d'), ('c-old', x'7b7d')"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	var ids [][]string
	for range 2 {
		s := open(t, path)
		q, err := s.Queued(t.Context())
		if err != nil || len(q) != 2 {
			t.Fatalf("Queued = %+v, %v", q, err)
		}
		ids = append(ids, []string{q[0].EventID, q[1].EventID})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The shape of uuid.NewString, which names the webhooks queued since.
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if !v4.MatchString(ids[0][0]) || !v4.MatchString(ids[0][1]) || ids[0][0] == ids[0][1] || !slices.Equal(ids[1], ids[0]) {
		t.Errorf("event ids after the upgrade: %q, then %q; want two distinct version 4 UUIDs, kept", ids[0], ids[1])
	}
}

// TestHistoryRowidMigration: histories written before history became a
// rowid table are all there after the upgrade, each call's in its order,
// and new entries follow them.
func TestHistoryRowidMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "voicehook.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 5); err != nil {
		t.Fatal(err)
	}
	// Version 5's calls have the columns of today's but the dialog, the
	// last one.
	cols := callColumns[:len(callColumns)-1]
	insertV5 := "INSERT INTO calls (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	for _, id := range []string{"c-a", "c-b"} {
		args, err := callArgs(&engine.Call{CallID: id, AccountID: "9900000", State: engine.StateInitiated})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(insertV5, args[:len(cols)]...); err != nil {
			t.Fatal(err)
		}
	}
	// The rows go in out of order; seq decides.
	if _, err := db.Exec(`INSERT INTO history (call_id, seq, time, kind, summary, detail) VALUES
		('c-b', 2, 20, 'webhook', 'b2', x'7b7d'), ('c-a', 2, 12, 'state', 'a2', NULL),
		('c-a', 1, 11, 'state', 'a1', NULL), ('c-b', 1, 10, 'state', 'b1', NULL)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path)
	if err := s.AppendHistory(t.Context(), engine.HistoryEntry{CallID: "c-a", Time: time.Unix(0, 13), Kind: "state", Summary: "a3"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"c-a": "a1 a2 a3", "c-b": "b1 b2"}
	for id, w := range want {
		h, err := s.History(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range h {
			got = append(got, e.Summary)
		}
		if strings.Join(got, " ") != w {
			t.Errorf("history of %s after the upgrade: %q; want %q", id, got, w)
		}
	}
	h, _ := s.History(t.Context(), "c-b")
	if len(h) == 2 && (string(h[1].Detail) != "{}" || !h[1].Time.Equal(time.Unix(0, 20))) {
		t.Errorf("entry b2 after the upgrade: detail %q, time %v; want {} at 20ns", h[1].Detail, h[1].Time)
	}
}
