package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// BenchmarkCreateCallLimits measures CreateCall, in process, for an
// account without limits (limits=off) and with limits it never reaches
// (limits=on: a billion calls a second, a billion live calls): the
// difference is the cost of the checks. The calls run on, to a phone that
// answers at once and an app that hangs up, as the benchmark goes. Compare
// the two with benchstat:
//
//	go test -run '^$' -bench 'CreateCallLimits' -count 5 ./internal/engine | tee create.txt
//	go tool benchstat -col /limits create.txt
func BenchmarkCreateCallLimits(b *testing.B) {
	for _, limits := range []string{"off", "on"} {
		b.Run("limits="+limits, func(b *testing.B) {
			cfg := engine.Config{Clock: engine.RealClock{}, Store: newMemStore(),
				Sender:  &app{start: time.Now(), handle: replies(map[string]string{"https://app.test/answer": hangup})},
				Network: sim.New(engine.RealClock{}, map[string]sim.Script{"+15559990000": {Ring: time.Millisecond}}),
				BaseURL: "http://voicehook.test/api/v2"}
			if limits == "on" {
				cfg.Limits = func(string) engine.Limits {
					return engine.Limits{CallsPerSecond: 1_000_000_000, ConcurrentCalls: 1_000_000_000}
				}
			}
			eng, err := engine.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if err := eng.Start(ctx); err != nil {
				b.Fatal(err)
			}
			c := engine.Call{AccountID: "9900000", ApplicationID: "04e88489-df02-4e34-a0ee-27a91849555f",
				From: "+15551112222", To: "+15559990000", AnswerURL: "https://app.test/answer"}
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if _, err := eng.CreateCall(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
			b.StopTimer()
			for deadline := time.Now().Add(time.Minute); eng.Live() > 0 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			if err := eng.Shutdown(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}
