package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/readme"
	"github.com/voicehook/voicehook/voicetest"
)

// TestREADME runs the README's "Worked example: an echo bot" as written,
// against voicehook serve on loopback: the bot's socket is a real one.
func TestREADME(t *testing.T) {
	srv, results := readme.Run(t, "Worked example: an echo bot", app(slog.New(slog.NewTextHandler(t.Output(), nil))), readme.Options{})
	for _, g := range results[0].Webhooks {
		if ev, ok := g.Event.(*callback.Disconnect); ok {
			h := history(t, srv.URL(), ev.CallID)
			if !strings.Contains(h, `said "Hello bot, can you hear me?"`) || !strings.Contains(h, "hears stream echo's audio") ||
				!strings.Contains(h, `said "Yes I can. Goodbye."`) {
				t.Errorf("the caller did not talk with the bot:\n%s", h)
			}
		}
	}
}

// history is a call's history, a line per entry.
func history(t *testing.T, base, callID string) string {
	t.Helper()
	resp, err := http.Get(base + "/sim/v1/calls/" + callID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var entries []struct {
		Summary string `json:"summary"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&entries); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.Summary + "\n")
	}
	return b.String()
}

// TestConversation talks with the bot in process: the caller says a line
// when the stream starts listening, the bot plays it back, and each time
// the caller has heard the bot it says its next line; the last one hangs
// up.
func TestConversation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var echoes []float64
		bot := &Bot{Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Echoed: func(_ string, seconds float64) { echoes = append(echoes, seconds) }}
		v := voicetest.New(t, appWith(bot), voicetest.Options{StatusURL: "/status", Phones: map[string]voicetest.Phone{
			"+15557770000": {Says: "Hello bot, can you hear me?", OnHearing: []voicetest.Reaction{
				{Say: "I want to cancel my order"}, {Say: "Thanks, goodbye", Hangup: true},
			}},
		}})
		call := v.Inbound("+15557770000", "+15550001000")
		v.Run()
		call.WantEvents("initiate", "mediaStreamStarted", "mediaStreamStopped", "disconnect")
		call.WantCause("hangup")
		heard := 0
		for _, line := range strings.Split(call.Timeline(), "\n") {
			if strings.Contains(line, "hears stream echo's audio") {
				heard++
			}
		}
		if heard != 2 {
			t.Errorf("the caller heard the bot %d times, want 2 (its first two lines played back):\n%s", heard, call.Timeline())
		}
		// The bot played back each of the caller's lines, about as long as
		// it took to say (its pauses between words are kept, not the last).
		lines := []string{"Hello bot, can you hear me?", "I want to cancel my order"}
		if len(echoes) < 2 {
			t.Fatalf("the bot played back %v, want the caller's first two lines", echoes)
		}
		for i, line := range lines {
			if want := audio.SpeechLength(line).Seconds(); math.Abs(echoes[i]-want) > 0.4 {
				t.Errorf("echo %d lasts %.2fs; %q takes %.2fs to say", i+1, echoes[i], line, want)
			}
		}
	})
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want settings
	}{
		{nil, nil, settings{"127.0.0.1:3000"}},
		{nil, map[string]string{"PORT": "3001"}, settings{"127.0.0.1:3001"}},
		{[]string{"-addr", "127.0.0.1:3002"}, map[string]string{"PORT": "3001"}, settings{"127.0.0.1:3002"}},
	} {
		got, err := parse(tc.args, func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("args %q, env %v: %+v, %v; want %+v", tc.args, tc.env, got, err, tc.want)
		}
	}
}

// BenchmarkConversation5Minutes talks with the bot for five minutes of
// call, in process: 48 turns of a caller's sentence and its echo. The
// call-minutes metric is the clock time the call took; ns/op is the wall
// time.
//
//	go test ./examples/echobot -run '^$' -bench Conversation5Minutes -count 10
func BenchmarkConversation5Minutes(b *testing.B) {
	var turns []voicetest.Reaction
	for i := range 48 {
		turns = append(turns, voicetest.Reaction{Say: fmt.Sprintf("This is line %d of a long talk with a bot", i+1)})
	}
	turns[len(turns)-1].Hangup = true
	var took time.Duration
	scenario := func(t *testing.T) {
		v := voicetest.New(t, app(slog.New(slog.DiscardHandler)), voicetest.Options{Phones: map[string]voicetest.Phone{
			"+15557770000": {Says: "Hello bot, let us talk for a while", OnHearing: turns},
		}})
		start := time.Now()
		call := v.Inbound("+15557770000", "+15550001000")
		v.Run()
		took = time.Since(start)
		if call.Cause() != "hangup" {
			t.Errorf("cause %q", call.Cause())
		}
	}
	voicetest.Benchmark(b, scenario)
	if took < 5*time.Minute {
		b.Fatalf("the call took %v of clock time, want five minutes or more", took)
	}
	b.ReportMetric(took.Minutes(), "call-minutes")
}
