// Package postgres keeps calls, their histories, the webhook outbox and the
// records of recordings in a PostgreSQL database: the store that several
// voicehook nodes can share. [Store] implements engine.Store and
// recordings.Records, with the semantics the storetest suite checks, like
// the SQLite store.
//
// Dependencies:
//   - github.com/jackc/pgx/v5 (v5.12.0, the newest v5 release): the
//     maintained native PostgreSQL driver for Go, with a connection pool
//     (pgxpool), pipelined batches and a database/sql adapter (stdlib) for
//     the migrator.
//   - github.com/pressly/goose/v3: the migrator of the SQLite store, here
//     with its postgres dialect and a session advisory lock, so that nodes
//     starting together migrate once.
//
// Every operation runs on a connection of the pool, which pgxpool owns;
// the Store starts no goroutine of its own. A Write, or an AppendHistory,
// is one pipelined batch: PostgreSQL runs the batch as one implicit
// transaction, so it costs one round trip and lands all or nothing. A
// write whose context is done before it starts does nothing; once started
// it no longer follows its context and reports what happened (see
// writeContext).
//
// Times are timestamptz: microseconds, so a time read back is the one
// written truncated to the microsecond, in UTC. Only years 1 to 9999 are
// stored. Creation order, histories and the outbox are ordered by identity
// columns.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/recordings"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is an engine.Store on a PostgreSQL database. It is safe for
// concurrent use. Close releases it.
type Store struct {
	pool *pgxpool.Pool
	// lease is a pool of one connection, for the node's lease alone (Join,
	// Renew): a renewal waits for no call's write, however busy the
	// pool, so a loaded node does not let its lease lapse. It connects on
	// its first use: a store that joins no cluster opens no connection.
	lease *pgxpool.Pool

	// The node this store writes as, and its epoch (see Join).
	mu    sync.Mutex
	node  string
	epoch int64

	closeOnce sync.Once
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string, as libpq takes them) and migrates its
// schema to the current version. The DSN also takes pgx's settings:
// pool_max_conns (default: 4 or the number of CPUs, whichever is more)
// caps the connections of calls' reads and writes (a node of a cluster
// takes one more, for its lease), and default_query_exec_mode=exec suits a pooler
// in transaction mode (PgBouncer), which cannot keep the statements pgx
// prepares and caches by default.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The error may quote the DSN, password included: say less.
		return nil, errors.New("postgres: open: the connection string does not parse")
	}
	leaseCfg := cfg.Copy()
	leaseCfg.MaxConns, leaseCfg.MinConns = 1, 0
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	lease, err := pgxpool.NewWithConfig(ctx, leaseCfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool, lease: lease}
	if err := pool.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return s, nil
}

// migrate brings the schema to the newest version in migrations. Versions
// already applied are recorded in the database and not run again; an
// advisory lock held while migrating keeps nodes from racing.
func (s *Store) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// writeTimeout bounds a write once it has started: see writeContext.
const writeTimeout = time.Minute

// writeContext returns the context a write runs under, or ctx's error when
// ctx is already done: a canceled write does nothing. Once started, a
// write no longer follows ctx, like the SQLite store's: a write canceled
// in flight might have committed or not, and its caller would not know
// which. It waits for the answer, up to writeTimeout.
func writeContext(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	return wctx, cancel, nil
}

// Close closes the pools' connections, waiting for those in use to be
// returned. It always returns nil; calls after the first do nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.pool.Close()
		s.lease.Close()
	})
	return nil
}

var (
	_ engine.Store       = (*Store)(nil)
	_ recordings.Records = (*Store)(nil)
)
