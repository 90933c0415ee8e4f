package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
)

// BenchmarkExpire measures one batch of Expire: the time a sweep holds the
// writing connection. Each call has 30 history entries of 400 bytes, a
// call's usual share; the calls of the next batches are stored with the
// timer stopped.
//
//	go test -run '^$' -bench Expire -count 6 ./internal/store/sqlite
func BenchmarkExpire(b *testing.B) {
	for _, batch := range []int{100, 200, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := benchStore(b)
			ctx := b.Context()
			end := time.Now().Add(-10 * 24 * time.Hour)
			cutoff := engine.ExpireBefore{Calls: time.Now().Add(-7 * 24 * time.Hour)}
			n := 0
			for b.Loop() {
				b.StopTimer()
				for range batch {
					n++
					c := benchCall(fmt.Sprintf("c-%08d", n))
					c.State, c.EndTime = engine.StateDisconnected, end
					h := make([]engine.HistoryEntry, 30)
					for j := range h {
						h[j] = engine.HistoryEntry{CallID: c.CallID, Time: end, Kind: "webhook", Summary: "disconnect → https://app.example: 204", Detail: make([]byte, 400)}
					}
					if _, err := s.Write(ctx, engine.Write{Call: c, History: h}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				e, err := s.Expire(ctx, cutoff, batch)
				if err != nil || len(e.Calls) != batch {
					b.Fatalf("Expire: %d calls, %v; want %d", len(e.Calls), err, batch)
				}
			}
		})
	}
}
