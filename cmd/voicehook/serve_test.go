package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/server"
)

// syncBuffer is a bytes.Buffer safe to write from the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeFirstCall runs `voicehook serve` and places the README's first
// call against the demo app.
func TestServeFirstCall(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	ready := make(chan *server.Server, 1)
	exit := make(chan int, 1)
	go func() {
		exit <- serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, &stdout, &stderr, func(s *server.Server) { ready <- s })
	}()
	var srv *server.Server
	select {
	case srv = <-ready:
	case code := <-exit:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	for _, want := range []string{"console    " + srv.URL() + "/ ", "REST API   " + srv.URL() + "/api/v2", "account    9900000", "user       dev / dev", "+15550000486   busy (SIP 486)", "curl -u dev:dev"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, stdout.String())
		}
	}
	body := `{"from":"+15551234567","to":"+15550000000","applicationId":"04e88489-df02-4e34-a0ee-27a91849555f",` +
		`"answerUrl":"` + srv.URL() + `/demo/answer","disconnectUrl":"` + srv.URL() + `/demo/disconnect"}`
	req, _ := http.NewRequest("POST", srv.URL()+"/api/v2/accounts/9900000/calls", strings.NewReader(body))
	req.SetBasicAuth("dev", "dev")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	created, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("createCall: %d %s", resp.StatusCode, created)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(stderr.String(), "disconnect → POST") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"answer → POST " + srv.URL() + "/demo/answer", "SpeakSentence", "disconnected: hangup", "disconnect → POST"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, stderr.String())
		}
	}
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestServeRefusesDefaultCredentialsOffLoopback(t *testing.T) {
	var stdout, stderr syncBuffer
	// 0.0.0.0 is a listen address, refused before listening: nothing is dialled.
	code := serve(context.Background(), []string{"--addr", "0.0.0.0:0", "--db", ":memory:"}, &stdout, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), "refusing to listen on 0.0.0.0:0 with the default credentials") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestServeFlagsFromEnvironment(t *testing.T) {
	t.Setenv("VOICEHOOK_ACCOUNT_ID", "5551234")
	t.Setenv("VOICEHOOK_ADDR", "127.0.0.1:0")
	t.Setenv("VOICEHOOK_DB", ":memory:")
	recordings := filepath.Join(t.TempDir(), "audio")
	t.Setenv("VOICEHOOK_RECORDINGS", recordings)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, nil, &stdout, &stderr, func(*server.Server) { cancel() })
	}()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "account    5551234") {
		t.Errorf("the account from the environment is not used:\n%s", stdout.String())
	}
	if fi, err := os.Stat(recordings); err != nil || !fi.IsDir() || !strings.Contains(stdout.String(), "recordings "+recordings) {
		t.Errorf("the recordings directory from the environment is not used (%v):\n%s", err, stdout.String())
	}
}

func TestServePhonesFile(t *testing.T) {
	dir := t.TempDir()
	good := dir + "/phones.yaml"
	if err := os.WriteFile(good, []byte("phones:\n  \"+15551230001\":\n    outcome: decline\n    note: Alice never picks up\n"+
		"calls:\n  - from: \"+15551230001\"\n    to: \"+15550001000\"\n    after: 1h\n    every: 30s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	code := serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--phones", good, "--initiate-url", "http://127.0.0.1:3000/initiate"},
		&stdout, &stderr, func(*server.Server) { cancel() })
	for _, want := range []string{"+15551230001   Alice never picks up", "+15551230001 → +15550001000  after 1h0m0s, then every 30s"} {
		if code != 0 || !strings.Contains(stdout.String(), want) {
			t.Errorf("exit %d; the banner lacks %q:\n%s\n%s", code, want, stdout.String(), stderr.String())
		}
	}
	bad := dir + "/bad.yaml"
	if err := os.WriteFile(bad, []byte("phones:\n  \"+1555\":\n    outcome: sometimes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr = syncBuffer{}
	code = serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--phones", bad}, &stdout, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), `bad.yaml: scenario: phone +1555: outcome "sometimes"`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestServeConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/voicehook.yaml"
	if err := os.WriteFile(file, []byte(`accounts:
  - id: "1000001"
    username: alice
    password: wonderland
    applications:
      - id: 11111111-2222-4333-8444-555555555555
        name: IVR
        callInitiatedCallbackUrl: http://app:Wh00kS3cret@127.0.0.1:3000/initiate
        numbers: ["+15551230000-+15551230099"]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	code := serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--config", file}, &stdout, &stderr,
		func(*server.Server) { cancel() })
	for _, want := range []string{"account    1000001", "user       alice / *****",
		"app        11111111-2222-4333-8444-555555555555 (IVR) answers +15551230000-+15551230099: initiate → http://app:*****@127.0.0.1:3000/initiate"} {
		if code != 0 || !strings.Contains(stdout.String(), want) {
			t.Errorf("exit %d; the banner lacks %q:\n%s\n%s", code, want, stdout.String(), stderr.String())
		}
	}
	if out := stdout.String() + stderr.String(); strings.Contains(out, "Wh00kS3cret") || strings.Contains(out, "wonderland") {
		t.Errorf("the banner shows a password:\n%s", out)
	}
	stderr = syncBuffer{}
	if code := serve(context.Background(), []string{"--config", file, "--username", "x"}, &stdout, &stderr, nil); code != 2 ||
		!strings.Contains(stderr.String(), "--username belongs to the dev account") {
		t.Errorf("--config with --username: exit %d, %q", code, stderr.String())
	}
	bad := dir + "/bad.yaml"
	os.WriteFile(bad, []byte("accounts:\n  - id: \"1\"\n    username: a\n    password: b\n    applications:\n      - id: 11111111-2222-4333-8444-555555555555\n"+
		"        callInitiatedCallbackUrl: ftp://app:Wh00kS3cret@127.0.0.1/initiate\n"), 0o644)
	stderr = syncBuffer{}
	if code := serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--config", bad}, &stdout, &stderr, nil); code != 1 ||
		!strings.Contains(stderr.String(), `"ftp://app:*****@127.0.0.1/initiate": want an http or https URL`) || strings.Contains(stderr.String(), "Wh00kS3cret") {
		t.Errorf("a bad URL in the config: exit %d, %q", code, stderr.String())
	}
	os.WriteFile(bad, []byte("accounts:\n  - id: \"1\"\n"), 0o644)
	stderr = syncBuffer{}
	if code := serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--config", bad}, &stdout, &stderr, nil); code != 1 ||
		!strings.Contains(stderr.String(), "bad.yaml: config: account 1: username and password are required") {
		t.Errorf("a bad config: exit %d, %q", code, stderr.String())
	}
}

// TestServeHelpHidesSecretDefaults: defaults taken from the environment
// are shown in -h, but not a password, nor a URL's.
func TestServeHelpHidesSecretDefaults(t *testing.T) {
	t.Setenv("VOICEHOOK_PASSWORD", "EnvP4ssword")
	t.Setenv("VOICEHOOK_INITIATE_URL", "http://app:EnvUrlS3cret@127.0.0.1:3000/initiate")
	var stdout, stderr syncBuffer
	if code := serve(context.Background(), []string{"-h"}, &stdout, &stderr, nil); code != 2 {
		t.Errorf("serve -h exited %d", code)
	}
	help := stderr.String()
	if strings.Contains(help, "EnvP4ssword") || strings.Contains(help, "EnvUrlS3cret") ||
		!strings.Contains(help, `(default "http://app:*****@127.0.0.1:3000/initiate")`) || !strings.Contains(help, `(default "*****")`) {
		t.Errorf("serve -h:\n%s", help)
	}
}

// TestServeQuietLogsFailedCalls runs `voicehook serve -q`: a call that
// ends with hangup leaves no line, one that ends otherwise is logged at
// Warn with its cause and message.
func TestServeQuietLogsFailedCalls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	ready := make(chan *server.Server, 1)
	exit := make(chan int, 1)
	go func() {
		exit <- serve(ctx, []string{"-q", "--addr", "127.0.0.1:0", "--db", ":memory:"}, &stdout, &stderr, func(s *server.Server) { ready <- s })
	}()
	var srv *server.Server
	select {
	case srv = <-ready:
	case code := <-exit:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	defer func() {
		cancel()
		<-exit
	}()
	place := func(to string) string {
		body := `{"from":"+15551234567","to":"` + to + `","applicationId":"04e88489-df02-4e34-a0ee-27a91849555f",` +
			`"answerUrl":"` + srv.URL() + `/demo/answer"}`
		req, _ := http.NewRequest("POST", srv.URL()+"/api/v2/accounts/9900000/calls", strings.NewReader(body))
		req.SetBasicAuth("dev", "dev")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("createCall: %d %s", resp.StatusCode, b)
		}
		_, rest, _ := strings.Cut(string(b), `"callId":"`)
		id, _, _ := strings.Cut(rest, `"`)
		return id
	}
	ended := func(id string) bool {
		req, _ := http.NewRequest("GET", srv.URL()+"/api/v2/accounts/9900000/calls/"+id, nil)
		req.SetBasicAuth("dev", "dev")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(b), `"state":"disconnected"`)
	}
	good := place("+15550000000")
	busy := place("+15550000486")
	deadline := time.Now().Add(15 * time.Second)
	for !(ended(good) && strings.Contains(stderr.String(), "call_id="+busy)) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	log := stderr.String()
	if !strings.Contains(log, `level=WARN msg="disconnected: busy`) || !strings.Contains(log, "cause=busy") || !strings.Contains(log, "call_id="+busy) {
		t.Errorf("-q does not log the busy call at Warn:\n%s", log)
	}
	if strings.Contains(log, "call_id="+good) || strings.Contains(log, "disconnected: hangup") || strings.Contains(log, "level=INFO") {
		t.Errorf("-q logs more than problems:\n%s", log)
	}
}

// TestServeAddressInUse: a port in use is named, with the flag and the
// environment variable that choose another.
func TestServeAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stdout, stderr syncBuffer
	code := serve(context.Background(), []string{"--addr", ln.Addr().String(), "--db", ":memory:"}, &stdout, &stderr, nil)
	for _, want := range []string{"the address " + ln.Addr().String() + " is in use", "--addr", "VOICEHOOK_ADDR"} {
		if code != 1 || !strings.Contains(stderr.String(), want) {
			t.Errorf("exit %d, stderr lacks %q: %q", code, want, stderr.String())
		}
	}
	// The admin address in use names its own flag, not --addr.
	stderr = syncBuffer{}
	code = serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--admin-addr", ln.Addr().String(), "--db", ":memory:"}, &stdout, &stderr, nil)
	for _, want := range []string{"the address " + ln.Addr().String() + " is in use", "--admin-addr", "VOICEHOOK_ADMIN_ADDR"} {
		if code != 1 || !strings.Contains(stderr.String(), want) || strings.Contains(stderr.String(), "--addr ") {
			t.Errorf("admin address in use: exit %d, stderr lacks %q: %q", code, want, stderr.String())
		}
	}
}

// TestServeBadBooleanEnv: a boolean variable that is not one stops serve
// with a message naming it, rather than being read as its default.
func TestServeBadBooleanEnv(t *testing.T) {
	t.Setenv("VOICEHOOK_SIM", "nope")
	var stdout, stderr syncBuffer
	code := serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, &stdout, &stderr, nil)
	if code != 2 || !strings.Contains(stderr.String(), `VOICEHOOK_SIM="nope": want true or false`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestServeSimOffByAnyFalse: VOICEHOOK_SIM=0 turns the simulator off as
// --sim=0 does.
func TestServeSimOffByAnyFalse(t *testing.T) {
	t.Setenv("VOICEHOOK_SIM", "0")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	code := serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, &stdout, &stderr, func(srv *server.Server) { cancel() })
	if code != 0 || !strings.Contains(stdout.String(), "The simulator is off") {
		t.Errorf("exit %d, banner:\n%s\n%s", code, stdout.String(), stderr.String())
	}
}

// TestServeSimOff: --sim=false (or VOICEHOOK_SIM=false) turns the
// simulator off: the banner says so, /sim/v1 is 404, and a phones file is
// refused.
func TestServeSimOff(t *testing.T) {
	t.Setenv("VOICEHOOK_SIM", "false")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	code := serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, &stdout, &stderr, func(srv *server.Server) {
		defer cancel()
		resp, err := http.Post(srv.URL()+"/sim/v1/inbound", "application/json", strings.NewReader(`{"from":"+15557770000","to":"+15550001000"}`))
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("/sim/v1 with the simulator off: %d", resp.StatusCode)
		}
	})
	if code != 0 || !strings.Contains(stdout.String(), "The simulator is off (--sim=false)") || strings.Contains(stdout.String(), "Simulated phones") {
		t.Errorf("exit %d, banner:\n%s\n%s", code, stdout.String(), stderr.String())
	}
	phones := filepath.Join(t.TempDir(), "phones.yaml")
	os.WriteFile(phones, []byte("calls:\n  - from: \"+15557770000\"\n    to: \"+15550001000\"\n"), 0o644)
	stderr = syncBuffer{}
	code = serve(context.Background(), []string{"--sim=false", "--addr", "127.0.0.1:0", "--db", ":memory:", "--phones", phones,
		"--initiate-url", "http://127.0.0.1:9/initiate"}, &stdout, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), "the simulator is off (--sim=false): phones and scheduled calls (--phones) need it on") {
		t.Errorf("scheduled calls with the simulator off: exit %d, %q", code, stderr.String())
	}
}

// TestServeBeyondLoopbackBanner: beyond loopback the banner's /sim/v1
// example carries the account's credentials (the password masked).
func TestServeBeyondLoopbackBanner(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	// Listens on every interface and stops at once: only the banner is read,
	// nothing is dialled (the initiate URL is never called).
	code := serve(ctx, []string{"--addr", "0.0.0.0:0", "--db", ":memory:", "--username", "alice", "--password", "wonderland",
		"--initiate-url", "http://127.0.0.1:9/initiate"}, &stdout, &stderr, func(*server.Server) { cancel() })
	if code != 0 || !regexp.MustCompile(`curl -u alice:\*{5} -H 'Content-Type: application/json' http://\S+/sim/v1/inbound`).MatchString(stdout.String()) ||
		strings.Contains(stdout.String(), "wonderland") {
		t.Errorf("exit %d, banner:\n%s\n%s", code, stdout.String(), stderr.String())
	}
}

// Stopping serve drains: no new calls, the live ones get --drain-timeout
// to end, then each ends with one disconnect.
func TestServeDrainsOnStop(t *testing.T) {
	var disconnects atomic.Int32
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/disconnect" {
			disconnects.Add(1)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<Response><Pause duration="600"/></Response>`)
	}))
	defer app.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	ready := make(chan *server.Server, 1)
	exit := make(chan int, 1)
	go func() {
		exit <- serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--drain-timeout", "1s"}, &stdout, &stderr, func(s *server.Server) { ready <- s })
	}()
	var srv *server.Server
	select {
	case srv = <-ready:
	case code := <-exit:
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	body := `{"from":"+15551234567","to":"+15550000000","applicationId":"04e88489-df02-4e34-a0ee-27a91849555f",` +
		`"answerUrl":"` + app.URL + `/answer","disconnectUrl":"` + app.URL + `/disconnect"}`
	req, _ := http.NewRequest("POST", srv.URL()+"/api/v2/accounts/9900000/calls", strings.NewReader(body))
	req.SetBasicAuth("dev", "dev")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "Pause") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	cancel()
	select {
	case code := <-exit:
		if code != 0 {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	took := time.Since(start)
	log := stderr.String()
	for _, want := range []string{"draining: 1 calls live", "ended 1 calls still live", "disconnected: error (voicehook was stopped while the call was live"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if n := disconnects.Load(); n != 1 {
		t.Errorf("the app got %d disconnects before serve stopped, want 1", n)
	}
	if took < time.Second {
		t.Errorf("serve stopped after %v: it did not give the call its second", took)
	}
}
