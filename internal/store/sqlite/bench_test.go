package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// Run with
//
//	go test -run '^$' -bench . -benchmem -count 6 ./internal/store/sqlite | tee new.txt
//	go tool benchstat new.txt
//
// The store is a file under b.TempDir(): WAL, synchronous=NORMAL.

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
	return open(b, filepath.Join(b.TempDir(), "voicehook.db"))
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
		if err := s.SaveCall(b.Context(), calls[i]); err != nil {
			b.Fatal(err)
		}
	}
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
			for i := range n {
				if err := s.SaveCall(b.Context(), benchCall(fmt.Sprintf("c-%08d", i))); err != nil {
					b.Fatal(err)
				}
			}
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
// the engine's call owners do. Writes share one connection.
func BenchmarkSaveCallParallel(b *testing.B) {
	s := benchStore(b)
	var next int64
	var mu = make(chan struct{}, 1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu <- struct{}{}
			next++
			id := fmt.Sprintf("c-%08d", next)
			<-mu
			if err := s.SaveCall(b.Context(), benchCall(id)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSaveCallInTx measures what a batching API would give: n
// upserts in one transaction, as a SaveCalls(ctx, ...*Call) could do.
// ns/call divides by n.
func BenchmarkSaveCallInTx(b *testing.B) {
	for _, n := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s := benchStore(b)
			i := 0
			for b.Loop() {
				tx, err := s.write.BeginTx(b.Context(), nil)
				if err != nil {
					b.Fatal(err)
				}
				stmt := tx.StmtContext(b.Context(), s.stmtSave)
				for range n {
					i++
					args, err := callArgs(benchCall(fmt.Sprintf("c-%08d", i)))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := stmt.ExecContext(b.Context(), args...); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/call")
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
	for i := range n {
		c := benchCall(fmt.Sprintf("c-%08d", i))
		c.State, c.DisconnectCause = engine.StateDisconnected, callback.CauseHangup
		if i%100 == 0 {
			c.DisconnectCause = callback.CauseBusy
		}
		if i%1000 == 0 {
			c.To = "+15550000200"
		}
		if err := s.SaveCall(b.Context(), c); err != nil {
			b.Fatal(err)
		}
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
