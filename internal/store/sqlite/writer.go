package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// Group commit. Every write goes through one goroutine that owns the
// writing connection: it takes the writes waiting, runs up to maxBatch of
// them in one transaction, commits once, and answers every caller. Under
// load many calls' writes share a commit, which is what a commit costs;
// alone, a write costs one handoff more than it did. Callers still wait for
// their commit, so a write that returned is on disk.
//
// A write that fails is rolled back alone. Writes rarely fail, so a batch
// first runs without savepoints; only when one of its writes fails is the
// transaction rolled back and the batch run again with each write under its
// own savepoint. A write's run may therefore be called twice, in two
// transactions of which the first never commits.

// maxBatch caps the writes of one transaction.
const maxBatch = 256

// errClosed is returned for writes after Close.
var errClosed = errors.New("sqlite: store closed")

// write is one queued write.
type write struct {
	run  func(tx *txn) error
	done chan error
}

// txn is the transaction of a batch, with the store's prepared statements
// bound to it once for all the batch's writes.
type txn struct {
	*sql.Tx
	bound map[*sql.Stmt]*sql.Stmt
}

// stmt returns the prepared statement p bound to the transaction.
func (t *txn) stmt(p *sql.Stmt) *sql.Stmt {
	if b, ok := t.bound[p]; ok {
		return b
	}
	b := t.Tx.Stmt(p)
	t.bound[p] = b
	return b
}

// writer is the group-commit loop's state.
type writer struct {
	queue chan write
	quit  chan struct{}
	ended chan struct{}
	// mu orders sends against Close: senders hold it shared while they
	// queue, Close takes it to stop intake, so no write is queued unseen.
	mu     sync.RWMutex
	closed bool
}

func (s *Store) startWriter() {
	s.w = &writer{queue: make(chan write, maxBatch), quit: make(chan struct{}), ended: make(chan struct{})}
	go s.writeLoop()
}

// do queues run and waits for its transaction to commit. run must use only
// the transaction it is given.
func (s *Store) do(ctx context.Context, run func(tx *txn) error) error {
	if err := ctx.Err(); err != nil {
		return err // a cancelled write does nothing
	}
	w := write{run: run, done: make(chan error, 1)}
	s.w.mu.RLock()
	if s.w.closed {
		s.w.mu.RUnlock()
		return errClosed
	}
	select {
	case s.w.queue <- w:
	case <-ctx.Done():
		s.w.mu.RUnlock()
		return ctx.Err()
	}
	s.w.mu.RUnlock()
	// Once queued, the write happens: wait for the truth, not the context.
	return <-w.done
}

func (s *Store) writeLoop() {
	defer close(s.w.ended)
	batch := make([]write, 0, maxBatch)
	for {
		select {
		case first := <-s.w.queue:
			batch = append(batch[:0], first)
		case <-s.w.quit:
			// Close has stopped intake: finish what was queued.
			for {
				select {
				case w := <-s.w.queue:
					s.commit([]write{w})
				default:
					return
				}
			}
		}
		batch = s.gather(batch)
		s.commit(batch)
	}
}

// gather adds the writes waiting to batch, up to maxBatch. When the queue
// runs dry it yields the processor once and looks again: writers that were
// about to queue get into this commit instead of paying for the next. Idle,
// the yield returns at once.
func (s *Store) gather(batch []write) []write {
	yielded := false
	for len(batch) < maxBatch {
		select {
		case w := <-s.w.queue:
			batch = append(batch, w)
		default:
			if yielded {
				return batch
			}
			yielded = true
			runtime.Gosched()
		}
	}
	return batch
}

// commit runs a batch in one transaction and answers each write.
func (s *Store) commit(batch []write) {
	results := make([]error, len(batch))
	if !s.commitFast(batch, results) {
		s.commitIsolated(batch, results)
	}
	for i, w := range batch {
		w.done <- results[i]
	}
}

// begin starts the transaction of a batch.
func (s *Store) begin() (*txn, error) {
	tx, err := s.write.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	return &txn{Tx: tx, bound: make(map[*sql.Stmt]*sql.Stmt, 4)}, nil
}

// commitFast runs the batch without savepoints and commits it, filling
// results. It reports false, having rolled everything back, when a write
// of a batch of several failed: the batch must run again isolated.
func (s *Store) commitFast(batch []write, results []error) bool {
	tx, err := s.begin()
	if err != nil {
		for i := range results {
			results[i] = err
		}
		return true
	}
	for i, w := range batch {
		if err := w.run(tx); err != nil {
			_ = tx.Rollback()
			if len(batch) == 1 {
				results[i] = err // alone: nothing else to keep
				return true
			}
			return false
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range results {
			results[i] = fmt.Errorf("commit: %w", err)
		}
	}
	return true
}

// commitIsolated runs the batch with each write under its own savepoint,
// so that a write that fails is rolled back alone, and commits the rest.
func (s *Store) commitIsolated(batch []write, results []error) {
	ctx := context.Background()
	tx, err := s.begin()
	if err != nil {
		for i := range results {
			results[i] = err
		}
		return
	}
	for i, w := range batch {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT w"); err != nil {
			results[i] = err
			continue
		}
		if err := w.run(tx); err != nil {
			results[i] = err
			_, _ = tx.ExecContext(ctx, "ROLLBACK TO w")
		}
		if _, err := tx.ExecContext(ctx, "RELEASE w"); err != nil && results[i] == nil {
			results[i] = err
		}
	}
	if err := tx.Commit(); err != nil {
		for i := range results {
			if results[i] == nil {
				results[i] = fmt.Errorf("commit: %w", err)
			}
		}
	}
}

// stopWriter stops intake, lets the loop finish what was queued, and waits.
func (s *Store) stopWriter() {
	s.w.mu.Lock()
	if !s.w.closed {
		s.w.closed = true
		close(s.w.quit)
	}
	s.w.mu.Unlock()
	<-s.w.ended
}
