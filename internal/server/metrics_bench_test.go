package server_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/server"
)

// BenchmarkMetricsOverhead is BenchmarkCallsPerSecond without and with
// metrics (--admin-addr), in the same run; with them, /metrics is scraped
// every 100 ms meanwhile, far more often than a Prometheus would.
func BenchmarkMetricsOverhead(b *testing.B) {
	for _, c := range []struct {
		name  string
		admin string
	}{{"off", ""}, {"on", "127.0.0.1:0"}} {
		b.Run(c.name, func(b *testing.B) {
			srv, err := server.Start(context.Background(), server.Config{Addr: "127.0.0.1:0", AdminAddr: c.admin,
				DB:     filepath.Join(b.TempDir(), "bench.db"),
				Phones: map[string]sim.Script{"+15559990000": {Ring: time.Millisecond}}})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close(context.Background())
			app := newBenchApp(`<Response><Hangup/></Response>`)
			defer app.Close()
			stop := make(chan struct{})
			scraped := make(chan struct{})
			go func() {
				defer close(scraped)
				if srv.AdminURL() == "" {
					return
				}
				tick := time.NewTicker(100 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					if resp, err := http.Get(srv.AdminURL() + "/metrics"); err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			}()
			start := time.Now()
			placeCalls(b, srv, app, b.N, 32, 0)
			waitCount(b, &app.disconnects, int64(b.N), time.Minute)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
			close(stop)
			<-scraped
		})
	}
}
