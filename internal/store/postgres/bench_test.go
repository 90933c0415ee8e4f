package postgres

import (
	"fmt"
	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// Run with
//
//	go test -run '^$' -bench . -benchtime 2000x -count 1 ./internal/store/postgres
//
// against the local server (VOICEHOOK_TEST_POSTGRES), each benchmark on a
// database of its own. They mirror the SQLite store's, plus Write, the
// engine's one write per event.

// benchCall returns a call as the engine saves it after createCall.
func benchCall(id string) *engine.Call {
	now := time.Now()
	tag := "my-tag"
	return &engine.Call{
		AccountID: "9900000", ApplicationID: "04e88489-df02-4e34-a0ee-27a91849555f",
		CallID: id, To: "+15553334444", From: "+15551112222",
		Direction: callback.Outbound, State: engine.StateQueued,
		EnqueuedTime: now, LastUpdate: now, Tag: &tag,
		AnswerURL: "https://app.example/answer", AnswerMethod: "POST",
		DisconnectURL: "https://app.example/disconnect", DisconnectMethod: "POST",
		CallTimeout: 30 * time.Second, CallbackTimeout: 15 * time.Second, Priority: 5,
	}
}

func benchStore(b *testing.B) *Store {
	return open(b, pgtest.NewDatabase(b))
}

// saveMany saves calls in batches of 1000, one round trip each: the
// setup of benchmarks that need many calls stored.
func saveMany(b *testing.B, s *Store, calls []*engine.Call) {
	b.Helper()
	for start := 0; start < len(calls); start += 1000 {
		batch := &pgx.Batch{}
		for _, c := range calls[start:min(start+1000, len(calls))] {
			args, err := s.callArgs(c)
			if err != nil {
				b.Fatal(err)
			}
			batch.Queue(upsertCall, args...)
		}
		if _, err := s.runBatch(b.Context(), batch, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveCall saves new calls, one commit each.
func BenchmarkSaveCall(b *testing.B) {
	s := benchStore(b)
	i := 0
	for b.Loop() {
		i++
		if err := s.SaveCall(b.Context(), benchCall(fmt.Sprintf("c-%08d", i))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateCall re-saves existing calls, one commit each, among
// 10000 stored.
func BenchmarkUpdateCall(b *testing.B) {
	s := benchStore(b)
	const n = 10000
	calls := make([]*engine.Call, n)
	for i := range calls {
		calls[i] = benchCall(fmt.Sprintf("c-%08d", i))
	}
	saveMany(b, s, calls)
	i := 0
	for b.Loop() {
		c := calls[i%n]
		i++
		c.State = engine.StateAnswered
		c.LastUpdate = time.Now()
		if err := s.SaveCall(b.Context(), c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendHistory appends to the histories of 1000 calls in turn:
// one entry per commit, then batches of 4 and 16 entries per commit.
// ns/op is per call of AppendHistory; ns/entry divides by the batch.
func BenchmarkAppendHistory(b *testing.B) {
	for _, batch := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := benchStore(b)
			const n = 1000
			calls := make([]*engine.Call, n)
			for i := range calls {
				calls[i] = benchCall(fmt.Sprintf("c-%08d", i))
			}
			saveMany(b, s, calls)
			detail := []byte(`{"eventType":"answer","callId":"c-00000001","status":200,"latency":"3ms"}`)
			entries := make([]engine.HistoryEntry, batch)
			i := 0
			for b.Loop() {
				id := fmt.Sprintf("c-%08d", i%n)
				i++
				for j := range entries {
					entries[j] = engine.HistoryEntry{
						CallID: id, Time: time.Now(), Kind: "webhook",
						Summary: "answer → https://app/answer: 200 in 3ms", Detail: detail,
					}
				}
				if err := s.AppendHistory(b.Context(), entries...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/entry")
		})
	}
}

// BenchmarkSaveCallParallel saves new calls from GOMAXPROCS goroutines, as
// the engine's call owners do, on the pool's connections.
func BenchmarkSaveCallParallel(b *testing.B) {
	s := benchStore(b)
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("c-%08d", next.Add(1))
			if err := s.SaveCall(b.Context(), benchCall(id)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkWrite runs the engine's write of one event: the call, two
// history entries and a queued webhook in one transaction, then the
// webhook's delivery. serial runs one at a time; parallel runs from about
// 8 goroutines (8/GOMAXPROCS per processor), as several calls' owners do.
func BenchmarkWrite(b *testing.B) {
	detail := []byte(`{"eventType":"initiate","callId":"c-00000001","status":200,"latency":"3ms"}`)
	var next atomic.Int64
	event := func(b *testing.B, s *Store) bool {
		c := benchCall(fmt.Sprintf("c-%08d", next.Add(1)))
		now := time.Now()
		ids, err := s.Write(b.Context(), engine.Write{
			Call: c,
			History: []engine.HistoryEntry{
				{CallID: c.CallID, Time: now, Kind: "state", Summary: "queued"},
				{CallID: c.CallID, Time: now, Kind: "webhook", Summary: "initiate", Detail: detail},
			},
			Enqueue: []engine.QueuedWebhook{{CallID: c.CallID, EventID: "2b7c5e7a-0f4e-4a51-9a3b-6f1d2c3e4a5b", Data: detail}},
		})
		if err == nil {
			err = s.Delivered(b.Context(), ids[0])
		}
		if err != nil {
			b.Error(err)
			return false
		}
		return true
	}
	b.Run("serial", func(b *testing.B) {
		s := benchStore(b)
		for b.Loop() {
			if !event(b, s) {
				return
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := benchStore(b)
		b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !event(b, s) {
					return
				}
			}
		})
	})
}

// BenchmarkWriteUpdate runs the engine's write of one event to a call
// already stored (1000 calls in turn): the call, two history entries and
// a queued webhook, then the webhook's delivery, from about 8 goroutines.
// joined=no is a store alone; joined=yes a node of a cluster, whose writes
// are fenced by its lease.
func BenchmarkWriteUpdate(b *testing.B) {
	detail := []byte(`{"eventType":"answer","callId":"c-00000001","status":200,"latency":"3ms"}`)
	for _, joined := range []string{"no", "yes"} {
		b.Run("joined="+joined, func(b *testing.B) {
			s := benchStore(b)
			if joined == "yes" {
				if _, err := s.Join(b.Context(), "bench", "http://127.0.0.1:1", time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			calls := make([]*engine.Call, 1000)
			for i := range calls {
				calls[i] = benchCall(fmt.Sprintf("c-%08d", i))
				if err := s.SaveCall(b.Context(), calls[i]); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c := *calls[next.Add(1)%int64(len(calls))]
					now := time.Now()
					c.State, c.LastUpdate = engine.StateAnswered, now
					ids, err := s.Write(b.Context(), engine.Write{
						Call: &c,
						History: []engine.HistoryEntry{
							{CallID: c.CallID, Time: now, Kind: "state", Summary: "answered"},
							{CallID: c.CallID, Time: now, Kind: "webhook", Summary: "answer", Detail: detail},
						},
						Enqueue: []engine.QueuedWebhook{{CallID: c.CallID, EventID: "2b7c5e7a-0f4e-4a51-9a3b-6f1d2c3e4a5b", Data: detail}},
					})
					if err == nil {
						err = s.Delivered(b.Context(), ids[0])
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkConsoleList lists pages of 50 calls, newest first, among
// 100 000 stored, as the console does: the first page, a page from the
// middle, and pages filtered by a rare cause (1 call in 100), a number (1
// in 1000) and a state no call is in (a full scan).
func BenchmarkConsoleList(b *testing.B) {
	s := benchStore(b)
	const n = 100_000
	calls := make([]*engine.Call, n)
	for i := range calls {
		c := benchCall(fmt.Sprintf("c-%08d", i))
		c.State, c.DisconnectCause = engine.StateDisconnected, callback.CauseHangup
		if i%100 == 0 {
			c.DisconnectCause = callback.CauseBusy
		}
		if i%1000 == 0 {
			c.To = "+15550000200"
		}
		calls[i] = c
	}
	saveMany(b, s, calls)
	if _, err := s.pool.Exec(b.Context(), "ANALYZE calls"); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    engine.CallFilter
	}{
		{"first", engine.CallFilter{}},
		{"middle", engine.CallFilter{After: fmt.Sprintf("c-%08d", n/2)}},
		{"cause", engine.CallFilter{DisconnectCause: callback.CauseBusy}},
		{"number", engine.CallFilter{Number: "+15550000200"}},
		{"empty-state", engine.CallFilter{State: engine.StateAnswered}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := tc.f
			f.Newest, f.Limit = true, 51
			for b.Loop() {
				if _, err := s.ListCalls(b.Context(), f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
