// Package sip_test calls voicehook over SIP with independent peers: SIPp
// (Debian package sip-tester) for signalling scenarios and load, baresip
// (baresip-core) as a softphone whose audio is checked by its samples.
// Each test runs voicehook in process with SIP on its own 127.0.0.N
// address, and its app on 127.0.0.1. Without the programs the tests skip,
// saying which is missing; under CI=true they fail instead.
package sip_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/server"
)

// require returns the path of a program the test needs, or skips (fails
// under CI=true) saying which Debian package has it.
func require(t *testing.T, program, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is needed in CI: install the Debian package %s (.ci/run does)", program, pkg)
	}
	t.Skipf("skipping: %s is not installed (Debian package %s)", program, pkg)
	return ""
}

// toneURL is a 2-second 440 Hz tone the app serves, as a 16 kHz stereo
// WAV: voicehook must resample and downmix it for the call.
const toneURL = "{app}/tone.wav"

var toneWAV = func() []byte {
	tone := pcm.Tone(440, 16000, 2*time.Second, 0.5)
	var b bytes.Buffer
	if err := pcm.WriteWAV(&b, 16000, tone, tone); err != nil {
		panic(err)
	}
	return b.Bytes()
}()

// app is the voice application under test: it answers each webhook with
// the BXML given for its path and keeps every event.
type app struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []callback.Event
	bx  map[string]string
	ch  chan callback.Event
}

func newApp(t testing.TB, bxml map[string]string) *app {
	a := &app{bx: bxml, ch: make(chan callback.Event, 64)}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/tone.wav" {
			w.Header().Set("Content-Type", "audio/wav")
			w.Write(toneWAV)
			return
		}
		body, _ := io.ReadAll(r.Body)
		ev, err := callback.Decode(body)
		if err != nil {
			t.Errorf("app: %s: %v", r.URL.Path, err)
			http.Error(w, err.Error(), 400)
			return
		}
		a.mu.Lock()
		a.got = append(a.got, ev)
		reply := strings.ReplaceAll(a.bx[r.URL.Path], "{app}", a.srv.URL)
		a.mu.Unlock()
		select {
		case a.ch <- ev:
		default:
		}
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, reply)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// wait returns the first event of the type, waiting up to d.
func (a *app) wait(t *testing.T, typ callback.EventType, d time.Duration) callback.Event {
	t.Helper()
	deadline := time.After(d)
	for {
		a.mu.Lock()
		for _, ev := range a.got {
			if ev.Type() == typ {
				a.mu.Unlock()
				return ev
			}
		}
		a.mu.Unlock()
		select {
		case <-a.ch:
		case <-deadline:
			t.Fatalf("no %s webhook within %v; got %v", typ, d, a.types())
			return nil
		}
	}
}

// count is how many events of the type the app got.
func (a *app) count(typ callback.EventType) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, ev := range a.got {
		if ev.Type() == typ {
			n++
		}
	}
	return n
}

func (a *app) types() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, ev := range a.got {
		out = append(out, string(ev.Type()))
	}
	return out
}

// startVoicehook runs voicehook with SIP on sipAddr; the dev application
// answers +15550001000-1999 with initiate at the app's /initiate.
func startVoicehook(t *testing.T, sipAddr string, a *app, gateways ...string) *server.Server {
	t.Helper()
	initiate, status := "", ""
	if a != nil {
		initiate, status = a.srv.URL+"/initiate", a.srv.URL+"/status"
	}
	return startVoicehookWith(t, sipAddr, initiate, status, gateways...)
}

// startVoicehookWith runs voicehook with SIP on sipAddr and the dev
// application's URLs given.
func startVoicehookWith(t *testing.T, sipAddr, initiate, status string, gateways ...string) *server.Server {
	t.Helper()
	cfg := server.Config{SIP: config.SIP{Addr: sipAddr, RTPPorts: rtpPorts(sipAddr)}, InitiateURL: initiate, StatusURL: status}
	for _, g := range gateways {
		cfg.SIP.Gateways = append(cfg.SIP.Gateways, config.Gateway{URI: g})
	}
	return startVoicehookConfig(t, cfg)
}

// startVoicehookConfig runs voicehook with cfg, its API on a free port of
// 127.0.0.1 and its database in memory.
func startVoicehookConfig(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	cfg.Addr, cfg.DB = "127.0.0.1:0", ":memory:"
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	return srv
}

// rtpPorts gives each test's voicehook its own RTP ports, from the last
// byte of its address.
func rtpPorts(addr string) [2]int {
	var n int
	fmt.Sscanf(addr[strings.LastIndexByte(addr[:strings.LastIndexByte(addr, ':')], '.')+1:], "%d", &n)
	lo := 21000 + (n%100)*100
	return [2]int{lo, lo + 99}
}

// placeCall creates a call over the REST API with the dev credentials.
func placeCall(t *testing.T, srv *server.Server, a *app, to string, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"from": "+15551234567", "to": to, "applicationId": "04e88489-df02-4e34-a0ee-27a91849555f",
		"answerUrl": a.srv.URL + "/answer", "disconnectUrl": a.srv.URL + "/disconnect"}
	for k, v := range extra {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", srv.URL()+"/api/v2/accounts/9900000/calls", bytes.NewReader(b))
	req.SetBasicAuth("dev", "dev")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		t.Fatalf("createCall: %d %s", resp.StatusCode, out)
	}
	var c struct {
		CallID string `json:"callId"`
	}
	json.Unmarshal(out, &c)
	return c.CallID
}

// updateCall posts to /calls/{id} (state completed, redirect).
func updateCall(t *testing.T, srv *server.Server, id string, body string) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL()+"/api/v2/accounts/9900000/calls/"+id, strings.NewReader(body))
	req.SetBasicAuth("dev", "dev")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("update call: %d", resp.StatusCode)
	}
}

// sipp runs one SIPp scenario to its end and returns its exit code and
// output. The scenario file's CODE and REASON placeholders are replaced
// first; args follow the scenario.
func sipp(t *testing.T, scenario string, replace map[string]string, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	bin := require(t, "sipp", "sip-tester")
	data, err := os.ReadFile(filepath.Join("scenarios", scenario))
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for k, v := range replace {
		s = strings.ReplaceAll(s, k, v)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, scenario)
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	all := append([]string{"-sf", file, "-m", "1", "-nostdin", "-timeout", fmt.Sprintf("%ds", int(timeout.Seconds())), "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Dir = dir
	cmd.WaitDelay = time.Second
	out, _ := cmd.CombinedOutput()
	code := cmd.ProcessState.ExitCode()
	errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
	return code, string(out) + string(errs)
}

// startSipp starts a SIPp UAS in the background; wait returns its exit
// code and output once it ends (killed after timeout).
func startSipp(t *testing.T, scenario string, replace map[string]string, timeout time.Duration, args ...string) (wait func() (int, string)) {
	t.Helper()
	require(t, "sipp", "sip-tester") // here, on the test's goroutine, where a skip ends the test
	done := make(chan struct{})
	var code int
	var out string
	go func() {
		defer close(done)
		code, out = sipp(t, scenario, replace, timeout, args...)
	}()
	return func() (int, string) {
		<-done
		return code, out
	}
}

// get reads a path of voicehook's API with the dev credentials.
func get(t *testing.T, srv *server.Server, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL()+path, nil)
	req.SetBasicAuth("dev", "dev")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}
