package sip_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/server"
)

// The README's "Transfer a softphone to another softphone", as written:
// its commands are read from the README and run, with voicehook and the
// IVR on this test's addresses. The IVR runs with --sales +15557770001;
// softphone 2 registers as agent (test/sip/softphone/agent), then
// softphone 1 as dev (test/sip/softphone/dev), which dials +15550001000
// and presses 1; the agent rings and answers, and the two talk. Each
// phone says a tone, 440 Hz for the caller and 1000 Hz for the agent, and
// each must hear the other's.
func TestWalkThroughSoftphoneTransferredToSoftphone(t *testing.T) {
	require(t, "espeak-ng", "espeak-ng")
	require(t, "baresip", "baresip-core")
	const callerHz, agentHz = 440, 1000
	var (
		srv           *server.Server
		caller, agent *baresip
		phoneIP       = 242 // 127.0.0.242, .243
	)
	for _, words := range readmeCommands(t, "Transfer a softphone to another softphone") {
		cmd := strings.Join(words, " ")
		switch {
		case strings.HasPrefix(cmd, "go run ./cmd/voicehook serve "):
			if want := "go run ./cmd/voicehook serve --sip-addr 127.0.0.1:5070 --initiate-url http://127.0.0.1:3000/initiate --status-url http://127.0.0.1:3000/status"; cmd != want {
				t.Fatalf("the README runs %q; this test runs %q", cmd, want)
			}
		case strings.HasPrefix(cmd, "go run ./examples/ivr"):
			appAddr := startExample(t, "ivr", words[3:]...).addr
			srv = startVoicehookConfig(t, server.Config{SIP: config.SIP{Addr: "127.0.0.241:5070", RTPPorts: [2]int{32000, 32099}},
				InitiateURL: "http://" + appAddr + "/initiate", StatusURL: "http://" + appAddr + "/status"})
		case words[0] == "baresip":
			name, commands, ok := softphoneCommand(words)
			if !ok || srv == nil {
				t.Fatalf("the README runs %q, which this test does not know", cmd)
			}
			freq := agentHz
			if len(commands) > 0 {
				freq = callerHz // the phone that dials is the caller
			}
			phone := startSoftphone(t, name, fmt.Sprintf("127.0.0.%d", phoneIP),
				srv.SIPAddr(), float64(freq), 40*time.Second, commands...)
			phoneIP++
			waitRegistered(t, phone)
			if freq == callerHz {
				caller = phone
			} else {
				agent = phone
			}
		default:
			t.Fatalf("the README runs %q, which this test does not know", cmd)
		}
	}
	if caller == nil || agent == nil {
		t.Fatal("the README does not start a softphone that dials and one that answers")
	}

	id := onlyCall(t, srv)
	waitGathers(t, srv, id, 1)
	time.Sleep(500 * time.Millisecond) // into the menu's prompt: the key cuts it short
	caller.press(t, "1")
	waitOutput(t, agent, "Call established", 15*time.Second)
	time.Sleep(5 * time.Second) // they talk
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
