package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/recordings"
	"github.com/voicehook/voicehook/internal/store/storetest"
)

// defaultDSN is the local server of the tests: trust authentication, user
// postgres.
const defaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// adminDSN is the DSN of the database the tests create their own
// databases from: VOICEHOOK_TEST_POSTGRES, else defaultDSN.
func adminDSN() string {
	if dsn := os.Getenv("VOICEHOOK_TEST_POSTGRES"); dsn != "" {
		return dsn
	}
	return defaultDSN
}

// probe connects to the server of adminDSN once per run, so that a server
// that does not answer costs one timeout, not one per test.
var probe = sync.OnceValue(func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminDSN())
	if err != nil {
		return err
	}
	return conn.Close(ctx)
})

// newDatabase creates a database of its own for t, dropped when t ends,
// and returns its DSN. It skips t when no server answers, and fails it
// instead when CI=true.
func newDatabase(t testing.TB) string {
	t.Helper()
	if err := probe(); err != nil {
		msg := "no PostgreSQL server answers at VOICEHOOK_TEST_POSTGRES or " + defaultDSN +
			" (apt package postgresql; trust authentication for user postgres): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	admin := adminDSN()

	b := make([]byte, 8)
	rand.Read(b)
	name := "vh_test_" + hex.EncodeToString(b)
	exec := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("VOICEHOOK_TEST_POSTGRES is not a URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// open opens a store on the database at dsn, closed when t ends.
func open(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store {
		return open(t, newDatabase(t))
	})
}

func TestRestart(t *testing.T) {
	dsn := newDatabase(t)
	storetest.RunRestart(t, func(t *testing.T) engine.Store {
		return open(t, dsn)
	})
}

func TestRecordings(t *testing.T) {
	dsn := newDatabase(t)
	storetest.RunRecordings(t,
		func(t *testing.T) recordings.Records { return open(t, dsn) },
		func(t *testing.T, s recordings.Records) recordings.Records {
			s.(*Store).Close()
			return open(t, dsn)
		})
}

// TestMigrateTogether opens the same new database from three goroutines
// at once, as nodes starting together do: each open succeeds and the
// migrations are applied once.
func TestMigrateTogether(t *testing.T) {
	dsn := newDatabase(t)
	want, err := migrations.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	stores := make([]*Store, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i+1, errs[i])
		}
		t.Cleanup(func() { s.Close() })
	}
	var applied, latest int64
	err = stores[0].pool.QueryRow(t.Context(),
		"SELECT COUNT(*), MAX(version_id) FROM goose_db_version WHERE is_applied AND version_id > 0").Scan(&applied, &latest)
	if err != nil {
		t.Fatalf("reading goose_db_version: %v", err)
	}
	if applied != int64(len(want)) || latest != int64(len(want)) {
		t.Errorf("%d migrations applied, up to version %d; want %d, up to %d", applied, latest, len(want), len(want))
	}
	// The stores share the data: a call saved through one is read through another.
	if err := stores[1].SaveCall(t.Context(), &engine.Call{AccountID: "A", CallID: "c-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[2].GetCall(t.Context(), "A", "c-1"); err != nil {
		t.Errorf("a call saved by one node, read by another: %v", err)
	}
}

// TestOpenBadDSN: a DSN that does not parse is an error that does not
// repeat the DSN, which may hold a password.
func TestOpenBadDSN(t *testing.T) {
	_, err := Open(t.Context(), "postgres://user:s3cret@127.0.0.1:notaport/db")
	if err == nil {
		t.Fatal("Open of a bad DSN succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error repeats the password: %v", err)
	}
}

// TestTimeOutOfRange: a time PostgreSQL could hold but voicehook would not
// write as RFC 3339 is refused, and nothing is stored.
func TestTimeOutOfRange(t *testing.T) {
	s := open(t, newDatabase(t))
	c := &engine.Call{AccountID: "A", CallID: "c-far", StartTime: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := s.SaveCall(t.Context(), c); err == nil {
		t.Fatal("SaveCall of a call starting in the year 10000 succeeded")
	}
	if _, err := s.GetCall(t.Context(), "A", "c-far"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("GetCall after the failed save: %v, want ErrNotFound", err)
	}
}

// TestWriteCanceledTellsTheTruth cancels writes as they start: each one
// either fails and stores nothing, or succeeds and stores its call and
// its webhook. An engine that retries a failed write never queues a
// webhook twice.
func TestWriteCanceledTellsTheTruth(t *testing.T) {
	s := open(t, newDatabase(t))
	var okN, failedN int
	for i := range 40 {
		id := fmt.Sprintf("c-%02d", i)
		ctx, cancel := context.WithCancel(t.Context())
		if i%10 == 0 {
			cancel() // before the write: it must fail
		}
		go func() {
			time.Sleep(time.Duration(i%10) * 150 * time.Microsecond)
			cancel()
		}()
		_, err := s.Write(ctx, engine.Write{
			Call:    &engine.Call{AccountID: "A", CallID: id, State: engine.StateAnswered},
			Enqueue: []engine.QueuedWebhook{{CallID: id, EventID: id, Data: []byte("answer")}},
		})
		cancel()
		_, getErr := s.GetCall(t.Context(), "A", id)
		switch {
		case err == nil && getErr != nil:
			t.Errorf("write %s succeeded, then GetCall: %v", id, getErr)
		case err != nil && !errors.Is(getErr, engine.ErrNotFound):
			t.Errorf("write %s failed (%v), then GetCall: %v, want ErrNotFound", id, err, getErr)
		case err == nil:
			okN++
		default:
			failedN++
		}
	}
	q, err := s.Queued(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if failedN < 4 {
		t.Errorf("%d writes failed, want at least the 4 canceled before they began", failedN)
	}
	if len(q) != okN {
		t.Errorf("%d webhooks queued after %d writes succeeded", len(q), okN)
	}
	t.Logf("%d writes succeeded, %d failed", okN, failedN)
}

// TestWriteWebhookOfUnknownCall: a webhook queued for a call that was
// never saved fails the whole write, which stores neither its call nor
// its history.
func TestWriteWebhookOfUnknownCall(t *testing.T) {
	s := open(t, newDatabase(t))
	c := &engine.Call{AccountID: "A", CallID: "c-1", State: engine.StateAnswered}
	_, err := s.Write(t.Context(), engine.Write{
		Call:    c,
		History: []engine.HistoryEntry{{CallID: "c-1", Time: time.Now(), Kind: "state", Summary: "answered"}},
		Enqueue: []engine.QueuedWebhook{{CallID: "c-nobody", EventID: "e-1", Data: []byte("answer")}},
	})
	if !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Write = %v, want an error wrapping ErrNotFound", err)
	}
	if !strings.Contains(fmt.Sprint(err), "c-nobody") {
		t.Errorf("Write = %v, want it to name the unknown call c-nobody", err)
	}
	if _, err := s.GetCall(t.Context(), "A", "c-1"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("GetCall after the failed write: %v, want ErrNotFound", err)
	}
	if q, err := s.Queued(t.Context()); err != nil || len(q) != 0 {
		t.Errorf("Queued after the failed write = %v, %v; want none", q, err)
	}
}
