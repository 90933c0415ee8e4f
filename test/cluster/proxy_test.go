package cluster_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
)

// need returns the path of a program the test needs, failing in CI and
// skipping elsewhere when it is not installed.
func need(t *testing.T, program, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		msg := program + " is not installed (apt package " + pkg + ")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// TestProxyInFront: a SIP proxy (Kamailio's dispatcher) sends inbound
// calls to the first of two nodes; the first is full (--max-calls 1) and
// answers the second call 503 with Retry-After, and the proxy moves it to
// the other node, which takes it.
func TestProxyInFront(t *testing.T) {
	kamailio := need(t, "kamailio", "kamailio")
	sipp := need(t, "sipp", "sip-tester")
	dsn := pgtest.NewDatabase(t)
	a := newApp(t, "127.0.0.190:0")
	first := startNode(t, dsn, "127.0.0.157:28080", "--sip-addr", "127.0.0.157:5060", "--rtp-ports", "33600-33699",
		"--max-calls", "1", "--initiate-url", a.url+"/answer")
	second := startNode(t, dsn, "127.0.0.158:28080", "--sip-addr", "127.0.0.158:5060", "--rtp-ports", "33700-33799",
		"--initiate-url", a.url+"/answer")

	dir := t.TempDir()
	list := filepath.Join(dir, "dispatcher.list")
	// Set 1: the first node, priority 10, then the second, priority 5.
	if err := os.WriteFile(list, []byte("1 sip:127.0.0.157:5060 0 10\n1 sip:127.0.0.158:5060 0 5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("testdata/kamailio.cfg")
	if err != nil {
		t.Fatal(err)
	}
	cfg = bytes.ReplaceAll(bytes.ReplaceAll(cfg, []byte("LISTEN"), []byte("127.0.0.156:5060")), []byte("LIST"), []byte(list))
	cfgFile := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfgFile, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	var proxyLog lockedBuffer
	proxyLog.mu, proxyLog.b = first.mu, &bytes.Buffer{}
	proxy := exec.Command(kamailio, "-f", cfgFile, "-D", "-E", "-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"))
	proxy.Stdout, proxy.Stderr = proxyLog, proxyLog
	// Kamailio forks workers: the whole group is stopped at the end.
	proxy.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	proxy.WaitDelay = 2 * time.Second
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	proxyExit := make(chan error, 1)
	go func() { proxyExit <- proxy.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-proxy.Process.Pid, syscall.SIGKILL)
		<-proxyExit
		if t.Failed() {
			first.mu.Lock()
			t.Logf("Kamailio's log:\n%s", proxyLog.b.String())
			first.mu.Unlock()
		}
	})
	select {
	case err := <-proxyExit:
		proxyExit <- err
		t.Fatalf("Kamailio exited: %v", err)
	case <-time.After(500 * time.Millisecond): // it binds its port
	}

	// Two calls, half a second apart, each 3 s long: the second arrives
	// while the first node is full.
	scenario, err := filepath.Abs("testdata/uac-via-proxy.xml")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	caller := exec.CommandContext(ctx, sipp, "127.0.0.156:5060", "-sf", scenario, "-s", "+15550001000",
		"-i", "127.0.0.159", "-p", "5070", "-mp", "33800", "-m", "2", "-r", "2", "-rp", "1000", "-l", "2",
		"-nostdin", "-timeout", "25s", "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "sipp-errors.log"))
	caller.Dir = dir
	out, err := caller.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "sipp-errors.log"))
		t.Fatalf("the caller's calls through the proxy failed: %v\n%s\n%s", err, out, errs)
	}
	owner := owners(t, dsn)
	count := map[string]int{}
	for _, o := range owner {
		count[o]++
	}
	if len(owner) != 2 || count[first.name] != 1 || count[second.name] != 1 {
		t.Fatalf("the calls' nodes: %v; want one on %s and one on %s", owner, first.name, second.name)
	}
	proxyLog.mu.Lock()
	log := proxyLog.b.String()
	proxyLog.mu.Unlock()
	if !strings.Contains(log, "503 from a node: trying sip:127.0.0.158:5060") {
		t.Errorf("the proxy did not move a call on a 503:\n%s", log)
	}
}
