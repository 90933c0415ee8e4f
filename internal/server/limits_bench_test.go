package server_test

import (
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// BenchmarkCallsPerSecondLimits drives full calls, as
// BenchmarkCallsPerSecond does, for the dev account without limits
// (limits=off) and with limits it never reaches (limits=on: a million
// calls a second and a million live calls), so that the difference is
// the cost of the checks: the window of starts, the live count, the
// release when a call ends. Compare the two with benchstat:
//
//	go test -run '^$' -bench 'CallsPerSecondLimits' -count 5 ./internal/server | tee limits.txt
//	go tool benchstat -col /limits limits.txt
func BenchmarkCallsPerSecondLimits(b *testing.B) {
	for _, limits := range []string{"off", "on"} {
		b.Run("limits="+limits, func(b *testing.B) {
			dir := config.Dev(server.DefaultAccountID, server.DefaultUsername, server.DefaultPassword, "", "")
			if limits == "on" {
				// Beyond what a config file allows (1000 a second), so
				// that the benchmark's rate stays far below it.
				dir.Accounts[0].Limits = &config.Limits{CallsPerSecond: 1_000_000, ConcurrentCalls: 1_000_000}
			}
			srv := benchServerWith(b, server.Config{Accounts: dir})
			app := newBenchApp(`<Response><Hangup/></Response>`)
			defer app.Close()
			start := time.Now()
			placeCalls(b, srv, app, b.N, 32, 0)
			waitCount(b, &app.disconnects, int64(b.N), time.Minute)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		})
	}
}
