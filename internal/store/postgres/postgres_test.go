package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/recordings"
	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
	"github.com/voicehook/voicehook/internal/store/storetest"
)

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
		return open(t, pgtest.NewDatabase(t))
	})
}

func TestRestart(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	storetest.RunRestart(t, func(t *testing.T) engine.Store {
		return open(t, dsn)
	})
}

func TestRecordings(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
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
	dsn := pgtest.NewDatabase(t)
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
	s := open(t, pgtest.NewDatabase(t))
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
	s := open(t, pgtest.NewDatabase(t))
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
	s := open(t, pgtest.NewDatabase(t))
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
