package sip_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/server"
)

// The README's "Transfer a softphone to another softphone", as written:
// the IVR runs with --sales +15557770001; softphone 2 registers as agent
// (test/sip/softphone/agent) and softphone 1 as dev
// (test/sip/softphone/dev), which dials +15550001000 and presses 1; the
// agent rings, answers, and the two talk. Each phone says a tone, 440 Hz
// for the caller and 1000 Hz for the agent, and each must hear the
// other's.
func TestWalkThroughSoftphoneTransferredToSoftphone(t *testing.T) {
	require(t, "espeak-ng", "espeak-ng")
	require(t, "baresip", "baresip-core")
	appAddr := startIVR(t, "--sales", server.DefaultSIPAgentNumber)
	srv := startVoicehookConfig(t, server.Config{SIP: config.SIP{Addr: "127.0.0.241:5070", RTPPorts: [2]int{32000, 32099}},
		InitiateURL: "http://" + appAddr + "/initiate", StatusURL: "http://" + appAddr + "/status"})

	const callerHz, agentHz = 440, 1000
	agent := startSoftphone(t, "agent", "127.0.0.243", srv.SIPAddr(), agentHz, 40*time.Second)
	waitRegistered(t, agent)
	caller := startSoftphone(t, "dev", "127.0.0.242", srv.SIPAddr(), callerHz, 40*time.Second, "/dial +15550001000")
	waitRegistered(t, caller)

	id := onlyCall(t, srv)
	waitGathers(t, srv, id, 1)
	time.Sleep(500 * time.Millisecond) // into the menu's prompt: the key cuts it short
	caller.press(t, "1")
	waitOutput(t, agent, "Call established", 15*time.Second)
	time.Sleep(4 * time.Second) // they talk
	for _, p := range []*baresip{caller, agent} {
		p.cmd.Process.Signal(os.Interrupt)
		p.cmd.Wait()
	}

	for _, c := range []struct {
		who        string
		phone      *baresip
		hears, own float64
	}{
		{"the caller (dev)", caller, agentHz, callerHz},
		{"the agent", agent, callerHz, agentHz},
	} {
		heard := c.phone.heard(t)
		if got := toneFor(heard, c.hears); got < 2*time.Second {
			t.Errorf("%s heard the other's %.0f Hz tone for %v of %v, want 2 s or more", c.who, c.hears, got, heard.Duration())
		}
		if got := toneFor(heard, c.own); got >= time.Second {
			t.Errorf("%s heard its own %.0f Hz tone back for %v", c.who, c.own, got)
		}
	}
}

// startSoftphone runs the README's softphone test/sip/softphone/<name> on
// ip, registering with voicehook at sipAddr (for the README's
// 127.0.0.1:5070), saying a tone of freq Hz, for at most d.
func startSoftphone(t *testing.T, name, ip, sipAddr string, freq float64, d time.Duration, commands ...string) *baresip {
	t.Helper()
	dir := filepath.Join("softphone", name)
	acct, err := os.ReadFile(filepath.Join(dir, "accounts"))
	if err != nil {
		t.Fatal(err)
	}
	account := strings.ReplaceAll(string(acct), "127.0.0.1:5070", sipAddr)
	return startBaresipFrom(t, dir, ip, account, pcm.Tone(freq, 8000, d+10*time.Second, 0.4), d, commands...)
}

// waitOutput waits until baresip has printed s.
func waitOutput(t *testing.T, b *baresip, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(b.output(), s) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("baresip did not print %q in %v", s, d)
}

// toneFor is how long clip holds a tone of freq Hz, by quarter seconds
// that are not silent and have most of their energy at freq.
func toneFor(clip pcm.Clip, freq float64) time.Duration {
	n := clip.Rate / 4
	var quarters int
	for i := 0; i+n <= len(clip.Samples); i += n {
		w := clip.Samples[i : i+n]
		if pcm.RMS(w) > 0.02 && pcm.Power(w, clip.Rate, freq) > 0.5 {
			quarters++
		}
	}
	return time.Duration(quarters) * time.Second / 4
}
