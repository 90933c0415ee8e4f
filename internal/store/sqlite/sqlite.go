// Package sqlite keeps calls and their histories in a SQLite database: the
// zero-setup store of a single voicehook node. [Store] implements
// engine.Store.
//
// Dependencies:
//   - modernc.org/sqlite: SQLite compiled to pure Go, so voicehook builds
//     and cross-compiles without cgo.
//   - github.com/pressly/goose/v3: versioned SQL migrations read from an
//     embed.FS, with the applied versions recorded in the database itself.
//
// A file database runs in WAL mode with synchronous=NORMAL: a commit
// survives a crash of the process, and is durable across a power failure
// once the next checkpoint has run. Writes go through one connection, so
// they never contend with each other; reads use a pool of their own and
// do not wait for writes.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/pressly/goose/v3"
	"github.com/voicehook/voicehook/internal/engine"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeoutMillis is how long a connection waits for a lock held by
// another connection (of this process or another) before it fails with
// SQLITE_BUSY.
const busyTimeoutMillis = 5000

// Memory is the path that opens a private in-memory database, which lives
// until the store is closed.
const Memory = ":memory:"

// Store is an engine.Store on a SQLite database. It is safe for concurrent
// use. Close releases it.
type Store struct {
	// write is the one connection that writes. Serialising writes here
	// keeps them from failing with SQLITE_BUSY on each other.
	write *sql.DB
	// read is the pool that reads. For an in-memory database it is write:
	// the database exists only inside its one connection.
	read *sql.DB

	// Statements prepared once, on write or read: parsing the upsert of a
	// call costs as much as running it.
	stmtSave, stmtAppend, stmtEnqueue, stmtDelivered *sql.Stmt
	// w is the group-commit writer that owns the writing connection.
	w                    *writer
	stmtGet, stmtHistory *sql.Stmt

	closeOnce sync.Once
	closeErr  error
}

// Open opens the database at path, creating it if need be, and migrates its
// schema to the current version. path is a file name, or [Memory] for a
// private in-memory database.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	if path == Memory {
		return openMemory(ctx)
	}
	return openFile(ctx, path)
}

// openMemory opens an in-memory database on a single connection that is
// never closed before the store is: closing it would drop the database.
func openMemory(ctx context.Context) (*Store, error) {
	q := pragmas()
	db, err := sql.Open("sqlite", Memory+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", Memory, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &Store{write: db, read: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", Memory, err)
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", Memory, err)
	}
	s.startWriter()
	return s, nil
}

// openFile opens a file database: one writing connection, which also
// turns on WAL and migrates, then a pool of reading connections.
func openFile(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	wq := pragmas()
	wq.Add("_pragma", "journal_mode(WAL)")
	// Take the write lock when a transaction begins rather than at its
	// first write, so that a writer from another process makes us wait
	// (busy_timeout) instead of failing mid-transaction.
	wq.Set("_txlock", "immediate")
	write, err := sql.Open("sqlite", fileURI(abs, wq))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	s := &Store{write: write}
	if err := s.migrate(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	rq := pragmas()
	rq.Add("_pragma", "query_only(1)")
	read, err := sql.Open("sqlite", fileURI(abs, rq))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.read = read
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.startWriter()
	return s, nil
}

// pragmas returns the settings of every connection.
func pragmas() url.Values {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMillis))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	return q
}

// fileURI returns the SQLite URI of the file at the absolute path abs, with
// the driver's parameters q. Characters that a URI gives meaning to ('?',
// '#', '%') are escaped, so any file name works.
func fileURI(abs string, q url.Values) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive: file:/C:/dir/db
	}
	u := url.URL{Scheme: "file", Path: p, OmitHost: true, RawQuery: q.Encode()}
	return u.String()
}

// migrate brings the schema to the newest version in migrations. Versions
// already applied are recorded in the database and not run again.
func (s *Store) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.write, fsys,
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// prepare prepares the statements run most often.
func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		db   *sql.DB
		q    string
	}{
		{&s.stmtSave, s.write, upsertCall},
		{&s.stmtAppend, s.write, insertHistory},
		{&s.stmtEnqueue, s.write, insertOutbox},
		{&s.stmtDelivered, s.write, deleteOutbox},
		{&s.stmtGet, s.read, getCall},
		{&s.stmtHistory, s.read, selectHistory},
	} {
		stmt, err := p.db.PrepareContext(ctx, p.q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.q, err)
		}
		*p.stmt = stmt
	}
	return nil
}

// Close closes the database. Calls after the first return the first's
// result. Operations in progress may fail.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.w != nil {
			s.stopWriter()
		}
		var errs []error
		for _, stmt := range []*sql.Stmt{s.stmtSave, s.stmtAppend, s.stmtEnqueue, s.stmtDelivered, s.stmtGet, s.stmtHistory} {
			if stmt != nil {
				errs = append(errs, stmt.Close())
			}
		}
		if s.read != nil && s.read != s.write {
			errs = append(errs, s.read.Close())
		}
		errs = append(errs, s.write.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sqlite: close: %w", err)
		}
	})
	return s.closeErr
}

var _ engine.Store = (*Store)(nil)
