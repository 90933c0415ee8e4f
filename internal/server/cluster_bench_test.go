package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/server"
	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
)

// BenchmarkClusterCallsPerSecond drives full calls — create, answer
// webhook that returns <Hangup/>, disconnect webhook — as fast as they go
// through two nodes on one PostgreSQL database, each on its own address,
// the clients' calls alternating between them. It reports the calls
// completed per second by the two together. Each node has the pool
// PostgreSQL's DSN gives it by default, max(4, NumCPU) connections (on
// this 2-core machine, 16 or 32 did no better: the database's commits, not
// the connections, are the limit). Run it beside BenchmarkLoopbackLimit,
// for the ratio to the loopback limit on the same day:
//
//	go test -run '^$' -bench 'ClusterCallsPerSecond|LoopbackLimit' -count 5 ./internal/server
func BenchmarkClusterCallsPerSecond(b *testing.B) {
	dsn := pgtest.NewDatabase(b)
	app := newBenchAppOn("127.0.0.252:0", `<Response><Hangup/></Response>`)
	defer app.Close()
	var urls []string
	for i, addr := range []string{"127.0.0.247:0", "127.0.0.248:0"} {
		srv, err := server.Start(context.Background(), server.Config{
			Addr:          addr,
			DB:            dsn,
			RecordingsDir: b.TempDir(),
			Node:          []string{"bench-1", "bench-2"}[i],
			Phones:        map[string]sim.Script{"+15559990000": {Ring: time.Millisecond}},
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { srv.Close(context.Background()) })
		urls = append(urls, srv.URL())
	}
	b.ResetTimer()
	start := time.Now()
	placeCallsOn(b, urls, app, b.N, 32, 0)
	waitCount(b, &app.disconnects, int64(b.N), time.Minute)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
}
