package voicetest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/voicetest"
	"github.com/voicehook/voicehook/webhook"
)

// queue keeps callers waiting: every half minute or so it offers the next
// agent (press 1) and plays a few seconds of hold, until the caller
// presses 1 and is put through.
func queue() http.Handler {
	h := webhook.New()
	timeout := 20 * time.Second
	offer := func(before ...bxml.Verb) *bxml.Response {
		return bxml.NewResponse(append(before, &bxml.Gather{GatherURL: "/queue", MaxDigits: 1, FirstDigitTimeout: &timeout,
			Prompts: []bxml.Verb{&bxml.SpeakSentence{Text: "You are next in line. Press 1 for the next free agent."}}})...)
	}
	h.OnInitiate(func(context.Context, *callback.Initiate) (*bxml.Response, error) { return offer(), nil })
	h.OnGather(func(_ context.Context, ev *callback.Gather) (*bxml.Response, error) {
		if ev.Digits == "1" {
			return bxml.NewResponse(&bxml.Transfer{Targets: []bxml.Verb{&bxml.PhoneNumber{Number: "+15550002001"}}}), nil
		}
		return offer(&bxml.Pause{Duration: 5 * time.Second}), nil
	})
	return h
}

// BenchmarkTenMinuteIVR runs a caller through twenty rounds of a queue's
// menu (prompt, 20 s timeout, hold) before an agent takes the call and
// talks for a minute: about ten minutes of call, in process. The
// call-minutes metric is the clock time one call took.
//
//	go test ./voicetest -run '^$' -bench TenMinuteIVR -count 10
func BenchmarkTenMinuteIVR(b *testing.B) {
	inputs := append(make([]string, 19), "1")
	var took time.Duration
	scenario := func(t *testing.T) {
		v := voicetest.New(t, queue(), voicetest.Options{Phones: map[string]voicetest.Phone{
			"+15557770000": {GatherInputs: inputs},
			"+15550002001": {HangupAfter: time.Minute},
		}})
		start := time.Now()
		call := v.Inbound("+15557770000", "+15550001000")
		v.Run()
		took = time.Since(start)
		if call.Cause() != "hangup" || len(call.Events()) != 21 {
			t.Errorf("cause %q after webhooks %q", call.Cause(), call.Events())
		}
	}
	voicetest.Benchmark(b, scenario)
	if took < 9*time.Minute {
		b.Fatalf("the call took %v of clock time, want about ten minutes", took)
	}
	b.ReportMetric(took.Minutes(), "call-minutes")
}
