package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/recordings"
)

// Retention: calls and recordings are forgotten as Bandwidth forgets them.
// A sweeper, started with the engine, asks the store to expire what is
// past Config.KeepCalls and Config.KeepRecordings in batches of
// sweepBatch, until nothing is left, then removes the files the store
// named; it sweeps once soon after the start, then every tenth of the
// shorter retention (at most an hour, at least a second). Live calls are
// never touched; an ended call waits for its queued webhooks, and a
// recording while it is processing or its call or conference is live
// (engine.Expirer). On PostgreSQL every node sweeps: the store shares the
// work out (engine.Expirer).

// Defaults of Config.KeepCalls and Config.KeepRecordings: Bandwidth's.
const (
	DefaultKeepCalls      = 7 * 24 * time.Hour
	DefaultKeepRecordings = 30 * 24 * time.Hour
	// KeepForever, or any negative duration, keeps calls or recordings
	// for good.
	KeepForever time.Duration = -1
)

// sweepBatch is how many rows of each kind one Expire removes: a short
// transaction, so that calls' writes never wait long behind a sweep, and
// the writes queued meanwhile go before its next batch. On SQLite, where
// every write waits for the one writing connection, a batch of 100 calls
// with 30 history entries each holds it about 14 ms, 500 about 110 ms, on
// the 2-core development machine (BenchmarkExpire in
// internal/store/sqlite).
const sweepBatch = 100

// maxSweepEvery and minSweepEvery bound the time between sweeps.
const (
	maxSweepEvery = time.Hour
	minSweepEvery = time.Second
)

// defaultRetention fills in the retention defaults: a zero duration is
// the default, a negative one KeepForever.
func (c *Config) defaultRetention() {
	switch {
	case c.KeepCalls == 0:
		c.KeepCalls = DefaultKeepCalls
	case c.KeepCalls < 0:
		c.KeepCalls = KeepForever
	}
	switch {
	case c.KeepRecordings == 0:
		c.KeepRecordings = DefaultKeepRecordings
	case c.KeepRecordings < 0:
		c.KeepRecordings = KeepForever
	}
}

// sweepEvery is the time between sweeps for the retentions given (those
// not positive keep forever): a tenth of the shortest, within
// [minSweepEvery, maxSweepEvery]; 0 when everything is kept forever.
func sweepEvery(keeps ...time.Duration) time.Duration {
	every := time.Duration(0)
	for _, k := range keeps {
		if k > 0 && (every == 0 || k/10 < every) {
			every = k / 10
		}
	}
	if every == 0 {
		return 0
	}
	return min(max(every, minSweepEvery), maxSweepEvery)
}

// sweeper expires calls and recordings in the background. start runs it;
// stop ends it and waits, and may be called more than once.
type sweeper struct {
	store             engine.Expirer
	files             *recordings.Keeper
	clock             engine.Clock
	calls, recordings time.Duration // not positive: kept forever
	every             time.Duration
	log               *slog.Logger
	counters          *sweepCounters // nil without metrics

	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

// sweepCounters count what the sweeps removed, for Prometheus.
type sweepCounters struct {
	calls, conferences, recordings prometheus.Counter
}

func newSweepCounters(reg *prometheus.Registry) *sweepCounters {
	c := &sweepCounters{
		calls: prometheus.NewCounter(prometheus.CounterOpts{Name: "voicehook_expired_calls_total",
			Help: "Ended calls removed past their retention (--keep-calls), with their histories."}),
		conferences: prometheus.NewCounter(prometheus.CounterOpts{Name: "voicehook_expired_conferences_total",
			Help: "Completed conferences removed past the calls' retention (--keep-calls)."}),
		recordings: prometheus.NewCounter(prometheus.CounterOpts{Name: "voicehook_expired_recordings_total",
			Help: "Recordings removed past their retention (--keep-recordings), with their audio."}),
	}
	reg.MustRegister(c.calls, c.conferences, c.recordings)
	return c
}

// startRetention starts the sweeper of s, unless everything is kept
// forever or the store cannot expire.
func (s *Server) startRetention(keeper *recordings.Keeper) {
	every := sweepEvery(s.cfg.KeepCalls, s.cfg.KeepRecordings)
	store, ok := s.store.(engine.Expirer)
	if every == 0 || !ok {
		return
	}
	w := &sweeper{store: store, files: keeper, clock: engine.RealClock{}, calls: s.cfg.KeepCalls, recordings: s.cfg.KeepRecordings,
		every: every, log: s.cfg.Logger.With("part", "retention"), done: make(chan struct{})}
	if s.metrics != nil {
		w.counters = newSweepCounters(s.metrics.Registry())
	}
	var ctx context.Context
	ctx, w.cancel = context.WithCancel(context.Background())
	s.sweeper = w
	go w.run(ctx)
}

// stopRetention stops the sweeper, if any, and waits for it.
func (s *Server) stopRetention() {
	if s.sweeper != nil {
		s.sweeper.stop()
	}
}

func (w *sweeper) stop() {
	w.stopOnce.Do(w.cancel)
	<-w.done
}

// run sweeps now, then every w.every, until ctx ends.
func (w *sweeper) run(ctx context.Context) {
	defer close(w.done)
	wake := make(chan struct{}, 1)
	for {
		w.sweep(ctx)
		t := w.clock.AfterFunc(w.every, func() {
			select {
			case wake <- struct{}{}:
			default:
			}
		})
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
		}
	}
}

// sweep expires batch after batch until a batch comes back short, then
// removes the audio files left older than the recordings' cutoff.
func (w *sweeper) sweep(ctx context.Context) {
	now := w.clock.Now()
	var before engine.ExpireBefore
	if w.calls > 0 {
		before.Calls = now.Add(-w.calls)
	}
	if w.recordings > 0 {
		before.Recordings = now.Add(-w.recordings)
	}
	var calls, conferences, recs int
	for ctx.Err() == nil {
		e, err := w.store.Expire(ctx, before, sweepBatch)
		// What was removed before an error is counted, and its files go.
		calls, conferences, recs = calls+len(e.Calls), conferences+len(e.Conferences), recs+len(e.Recordings)
		if w.counters != nil {
			w.counters.calls.Add(float64(len(e.Calls)))
			w.counters.conferences.Add(float64(len(e.Conferences)))
			w.counters.recordings.Add(float64(len(e.Recordings)))
		}
		if ferr := w.files.Forget(e); ferr != nil {
			w.log.Warn("remove the files of expired calls and recordings", "err", ferr)
		}
		if err != nil {
			if ctx.Err() == nil {
				w.log.Warn("expire calls and recordings", "err", err)
			}
			break
		}
		if !e.Full(sweepBatch) {
			break
		}
	}
	var orphans int
	if w.recordings > 0 && ctx.Err() == nil {
		var err error
		if orphans, err = w.files.RemoveAudioBefore(ctx, before.Recordings); err != nil {
			w.log.Warn("remove old recordings' audio", "err", err)
		}
	}
	if calls+conferences+recs+orphans > 0 {
		w.log.Info("expired", "calls", calls, "conferences", conferences, "recordings", recs, "orphan_audio_files", orphans,
			"calls_ended_before", before.Calls, "recordings_started_before", before.Recordings)
	}
}
