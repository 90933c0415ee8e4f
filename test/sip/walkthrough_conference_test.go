package sip_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/readme"
	"github.com/voicehook/voicehook/internal/server"
)

// The README's "A conference of softphones", as written: its commands are
// read from the README and run, with voicehook and examples/conference on
// this test's addresses. Softphone 2 registers as agent, softphone 1 as
// dev; the two createCall requests ring them, both answer, hear "Welcome
// to the standup." and join standup, the app gets conferenceMemberJoin
// for each, and each phone hears "A new member joined.". Each phone says a
// tone, 440 Hz for dev and 1000 Hz for the agent; each must hear the
// other's and not its own.
func TestWalkThroughConferenceOfSoftphones(t *testing.T) {
	require(t, "espeak-ng", "espeak-ng")
	require(t, "baresip", "baresip-core")
	names, tones := []string{"dev", "agent"}, map[string]float64{"dev": 440, "agent": 1000}
	var (
		srv     *server.Server
		app     *example
		phones  = map[string]*baresip{}
		phoneIP = 245 // 127.0.0.245, .246
		calls   []string
	)
	for _, words := range readmeCommands(t, "A conference of softphones") {
		cmd := strings.Join(words, " ")
		switch {
		case strings.HasPrefix(cmd, "go run ./cmd/voicehook serve"):
			if want := "go run ./cmd/voicehook serve --sip-addr 127.0.0.1:5070"; cmd != want {
				t.Fatalf("the README runs %q; this test runs %q", cmd, want)
			}
			srv = startVoicehookConfig(t, server.Config{SIP: config.SIP{Addr: "127.0.0.244:5070", RTPPorts: [2]int{32100, 32199}}})
		case cmd == "go run ./examples/conference":
			app = startExample(t, "conference")
		case words[0] == "baresip":
			name, commands, ok := softphoneCommand(words)
			freq, known := tones[name]
			if !ok || !known || len(commands) > 0 || srv == nil || phones[name] != nil {
				t.Fatalf("the README runs %q, which this test does not know", cmd)
			}
			phones[name] = startSoftphone(t, name, fmt.Sprintf("127.0.0.%d", phoneIP), srv.SIPAddr(), freq, 40*time.Second)
			phoneIP++
			waitRegistered(t, phones[name])
		case words[0] == "curl":
			if srv == nil || app == nil || len(phones) != len(tones) {
				t.Fatalf("the README runs %q before voicehook, the app and both softphones", cmd)
			}
			calls = append(calls, createCallAsWritten(t, words, srv, app))
		default:
			t.Fatalf("the README runs %q, which this test does not know", cmd)
		}
	}
	if len(calls) != 2 {
		t.Fatalf("the README places %d calls, want 2 (one to each softphone)", len(calls))
	}

	// Both softphones answer, and both calls join: the app hears of each.
	for _, name := range names {
		waitOutput(t, phones[name], "Call established", 15*time.Second)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !joined(app, calls) {
		if time.Now().After(deadline) {
			t.Fatalf("the app did not get conferenceMemberJoin for both calls %q in 30 s", calls)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := strings.Count(app.log.String(), "msg=conferenceMemberJoin "); n != 2 {
		t.Errorf("the app got conferenceMemberJoin %d times, want 2", n)
	}
	time.Sleep(6 * time.Second) // they talk
	for _, p := range phones {
		p.cmd.Process.Signal(os.Interrupt)
		p.cmd.Wait()
	}

	for i, name := range names {
		heard := phones[name].heard(t)
		own, other := tones[name], tones[names[1-i]]
		// "Welcome to the standup." first, then "A new member joined."
		// over the other's tone: about 1.2 s each.
		if got := speechFor(heard, 3*time.Second, tones); got < 750*time.Millisecond {
			t.Errorf("%s heard speech for %v of its first 3 s, want the welcome (0.75 s or more)", name, got)
		} else if got := speechFor(heard, heard.Duration(), tones); got < 2*time.Second {
			t.Errorf("%s heard speech for %v in all, want the welcome and then %q (2 s or more)", name, got, "A new member joined.")
		}
		if got := toneFor(heard, other); got < 2*time.Second {
			t.Errorf("%s heard the other's %.0f Hz tone for %v of %v, want 2 s or more", name, other, got, heard.Duration())
		}
		if got := toneFor(heard, own); got >= time.Second {
			t.Errorf("%s heard its own %.0f Hz tone back for %v", name, own, got)
		}
	}
}

// createCallAsWritten sends the README's createCall request, its
// addresses replaced by those of srv and app, and returns the call's id.
func createCallAsWritten(t *testing.T, words []string, srv *server.Server, app *example) string {
	t.Helper()
	r, err := readme.Curl(words[1:])
	if err != nil {
		t.Fatalf("the README runs %q: %v", strings.Join(words, " "), err)
	}
	if want := "http://" + readme.ServerAddr + "/api/v2/accounts/9900000/calls"; r.Method != "POST" || r.URL != want {
		t.Fatalf("the README sends %s %s, not createCall (POST %s)", r.Method, r.URL, want)
	}
	req, err := r.NewRequest(strings.NewReplacer(readme.ServerAddr, strings.TrimPrefix(srv.URL(), "http://"), readme.AppAddr, app.addr))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var c struct {
		CallID string `json:"callId"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &c) != nil || c.CallID == "" {
		t.Fatalf("createCall: %d %s", resp.StatusCode, body)
	}
	return c.CallID
}

// joined reports whether the app logged conferenceMemberJoin for each of
// the calls.
func joined(app *example, calls []string) bool {
	log := app.log.String()
	for _, id := range calls {
		found := false
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "msg=conferenceMemberJoin ") && strings.Contains(line, "call="+id) {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// speechFor is how long the first d of clip holds sound other than the
// tones, by quarter seconds that are not silent and have at least 1% of
// their energy away from the tones: speech counts even over the other
// member's tone, which is much louder.
func speechFor(clip pcm.Clip, d time.Duration, tones map[string]float64) time.Duration {
	n, end := clip.Rate/4, int(d.Seconds()*float64(clip.Rate))
	var quarters int
	for i := 0; i+n <= len(clip.Samples) && i < end; i += n {
		w := clip.Samples[i : i+n]
		rest := 1.0
		for _, f := range tones {
			rest -= pcm.Power(w, clip.Rate, f)
		}
		if pcm.RMS(w) > 0.02 && rest > 0.01 {
			quarters++
		}
	}
	return time.Duration(quarters) * time.Second / 4
}
