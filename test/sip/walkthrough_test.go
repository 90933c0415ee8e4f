package sip_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/readme"
	"github.com/voicehook/voicehook/internal/server"
)

// The README's "Real calls over SIP", as a person would do it with the
// softphone of test/sip/softphone: both halves, with the phone's sound
// card swapped for files and its keyboard for UDP keys.

// history is a call as the console's API shows it: its row and its
// history entries.
type history struct {
	Call struct {
		State string `json:"state"`
		Cause string `json:"cause"`
	} `json:"call"`
	Entries []struct {
		Kind    string          `json:"kind"`
		Summary string          `json:"summary"`
		Detail  json.RawMessage `json:"detail"`
	} `json:"entries"`
}

func callHistory(t *testing.T, srv *server.Server, id string) history {
	t.Helper()
	var h history
	if err := json.Unmarshal([]byte(get(t, srv, "/console/api/calls/"+id)), &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// onlyCall returns the id of the one call voicehook has, waiting for it.
func onlyCall(t *testing.T, srv *server.Server) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var calls []struct {
			CallID string `json:"callId"`
		}
		json.Unmarshal([]byte(get(t, srv, "/api/v2/accounts/9900000/calls")), &calls)
		if len(calls) == 1 {
			return calls[0].CallID
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no call came in")
	return ""
}

// waitEnded waits for the call to end and returns its history.
func waitEnded(t *testing.T, srv *server.Server, id string, d time.Duration) history {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		h := callHistory(t, srv, id)
		if h.Call.State == "disconnected" || time.Now().After(deadline) {
			return h
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Dial the phone menu of examples/ivr from the softphone, press 7 three
// times, and be hung up by its <Hangup/> after "Goodbye.".
func TestWalkThroughSoftphoneCallsTheIVR(t *testing.T) {
	require(t, "espeak-ng", "espeak-ng")
	require(t, "baresip", "baresip-core")
	appAddr := startExample(t, "ivr").addr
	srv := startVoicehookWith(t, "127.0.0.111:5070", "http://"+appAddr+"/initiate", "http://"+appAddr+"/status")
	phone := startBaresip(t, "127.0.0.112", "+15557770000", 300, 40*time.Second, "/dial sip:+15550001000@"+srv.SIPAddr())
	id := onlyCall(t, srv)
	for n := range 3 {
		waitGathers(t, srv, id, n+1)
		time.Sleep(500 * time.Millisecond) // into the menu's prompt: the key cuts it short
		phone.press(t, "7")
	}
	h := waitEnded(t, srv, id, 20*time.Second)
	if h.Call.State != "disconnected" || h.Call.Cause != "hangup" {
		t.Fatalf("the call: %s, %s; want disconnected by the app's hangup", h.Call.State, h.Call.Cause)
	}
	var gathers, sip []string
	for _, e := range h.Entries {
		if e.Kind == "webhook" && strings.HasPrefix(e.Summary, "gather ") {
			var g struct {
				Digits string `json:"digits"`
			}
			json.Unmarshal(e.Detail, &g)
			gathers = append(gathers, g.Digits)
		}
		if e.Kind == "phone" && (strings.HasPrefix(e.Summary, "→ ") || strings.HasPrefix(e.Summary, "← ")) {
			sip = append(sip, e.Summary)
		}
	}
	if strings.Join(gathers, ",") != "7,7,7" {
		t.Errorf("gather webhooks with digits %q, want 7 three times", gathers)
	}
	// The ladder shows the call's SIP messages.
	ladder := strings.Join(sip, " | ")
	for _, want := range []string{"← INVITE", "→ 180 Ringing", "→ 200 OK", "→ BYE"} {
		if !strings.Contains(ladder, want) {
			t.Errorf("the history's SIP messages lack %q: %s", want, ladder)
		}
	}
	phone.cmd.Process.Signal(os.Interrupt)
	phone.cmd.Wait()
	if heard := phone.heard(t); heard.Duration() < 5*time.Second {
		t.Errorf("the phone heard %v of the menu", heard.Duration())
	}
}

// example is an app of examples/ run as a process.
type example struct {
	addr string       // where it listens, host:port
	log  lockedBuffer // what it logged
}

// startExample builds and runs examples/<name> with the flags given, on a
// free port of 127.0.0.1, until the test ends.
func startExample(t *testing.T, name string, flags ...string) *example {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, "../../examples/"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/%s: %v\n%s", name, err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ex := &example{addr: ln.Addr().String()}
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	app := exec.CommandContext(ctx, bin, append([]string{"-addr", ex.addr}, flags...)...)
	app.Stderr = &ex.log
	if err := app.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		app.Wait()
		if t.Failed() {
			t.Logf("examples/%s's log:\n%s", name, ex.log.String())
		}
	})
	waitListening(t, ex.addr)
	return ex
}

// createCall rings the softphone behind the gateway; it answers, hears the
// demo app's sentence and is hung up.
func TestWalkThroughCreateCallRingsTheSoftphone(t *testing.T) {
	require(t, "espeak-ng", "espeak-ng")
	srv := startVoicehookWith(t, "127.0.0.113:5070", "", "", "sip:127.0.0.114:5060")
	phone := startBaresip(t, "127.0.0.114", "+15557770000", 300, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // baresip listens
	a := newApp(t, nil)
	id := placeCall(t, srv, a, "+15557770000", map[string]any{"answerUrl": srv.URL() + "/demo/answer", "disconnectUrl": srv.URL() + "/demo/disconnect"})
	h := waitEnded(t, srv, id, 15*time.Second)
	if h.Call.State != "disconnected" || h.Call.Cause != "hangup" {
		t.Fatalf("the call: %s, %s; want disconnected with hangup", h.Call.State, h.Call.Cause)
	}
	phone.cmd.Process.Signal(os.Interrupt)
	phone.cmd.Wait()
	heard := phone.heard(t)
	if heard.Duration() < time.Second {
		t.Fatalf("the phone heard %v", heard.Duration())
	}
}

// waitGathers waits until the call has started n Gathers: a key pressed
// then reaches one, however slowly the machine ran the verbs before.
func waitGathers(t *testing.T, srv *server.Server, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		started := 0
		for _, e := range callHistory(t, srv, id).Entries {
			if e.Kind == "verb" && strings.HasPrefix(e.Summary, "Gather ") {
				started++
			}
		}
		if started >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the call started %d Gathers in 20 s, want %d", started, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitListening waits until something accepts connections at addr.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens at %s", addr)
}

// readmeCommands returns the commands of the first sh block of the
// README's section under heading, each as its words.
func readmeCommands(t *testing.T, heading string) [][]string {
	t.Helper()
	path, err := readme.Path()
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(text), "\n### "+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", heading)
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	block, _, closed := strings.Cut(block, "\n```")
	if !ok || !closed {
		t.Fatalf("README.md's %q has no sh block", heading)
	}
	cmds, err := readme.Commands(block)
	if err != nil {
		t.Fatalf("README.md's %q: %v", heading, err)
	}
	var out [][]string
	for _, c := range cmds {
		out = append(out, c.Words)
	}
	return out
}

// softphoneCommand reads a README command that starts one of
// test/sip/softphone's softphones: baresip -f test/sip/softphone/NAME,
// each -e COMMAND after it. ok is false for any other command.
func softphoneCommand(words []string) (name string, commands []string, ok bool) {
	if len(words) < 3 || words[0] != "baresip" || words[1] != "-f" || !strings.HasPrefix(words[2], "test/sip/softphone/") {
		return "", nil, false
	}
	for i := 3; i < len(words); i += 2 {
		if words[i] != "-e" || i+1 == len(words) {
			return "", nil, false
		}
		commands = append(commands, words[i+1])
	}
	return strings.TrimPrefix(words[2], "test/sip/softphone/"), commands, true
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
