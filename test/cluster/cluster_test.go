// Package cluster_test runs voicehook as several node processes on one
// PostgreSQL database, each on its own loopback address, and kills, stops
// and drains them as an operator's machines would be.
package cluster_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
)

const (
	account = "9900000"
	appID   = "04e88489-df02-4e34-a0ee-27a91849555f"
	secret  = "a-secret-the-nodes-share"
	lease   = 2 * time.Second
)

// binary builds voicehook once per test run.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "voicehook-cluster-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "voicehook")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/voicehook").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// node is a voicehook process.
type node struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	mu   *sync.Mutex
	exit chan error
	// stopped makes stop run once.
	stopped sync.Once
}

// lockedBuffer is a log both the process and the test touch.
type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (n *node) logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log.String()
}

// startNode runs a node on addr with the database dsn, the test's lease
// and a drain timeout of 3 s, and stops it when the test ends.
func startNode(t *testing.T, dsn, addr string, extra ...string) *node {
	t.Helper()
	n := launch(t, dsn, addr, append([]string{"--node-lease", lease.String(), "--drain-timeout", "3s"}, extra...)...)
	t.Cleanup(func() { n.stop(t) })
	return n
}

// launch runs a node process serving on addr with the database dsn and
// args, and waits until it answers. The caller stops it (stop).
func launch(tb testing.TB, dsn, addr string, args ...string) *node {
	tb.Helper()
	bin, err := binary()
	if err != nil {
		tb.Fatal(err)
	}
	n := &node{name: addr, url: "http://" + addr, log: &bytes.Buffer{}, mu: &sync.Mutex{}, exit: make(chan error, 1)}
	n.cmd = exec.Command(bin, append([]string{"serve", "--addr", addr, "--db", dsn, "--recordings", tb.TempDir()}, args...)...)
	n.cmd.Env = append(os.Environ(), "VOICEHOOK_CLUSTER_SECRET="+secret)
	n.cmd.Stdout = lockedBuffer{n.mu, n.log}
	n.cmd.Stderr = lockedBuffer{n.mu, n.log}
	if err := n.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { n.exit <- n.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest("GET", n.url+"/api/v2/accounts/"+account+"/calls?pageSize=1", nil)
		req.SetBasicAuth("dev", "dev")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		select {
		case err := <-n.exit:
			n.exit <- err
			n.stop(tb)
			tb.Fatalf("node %s exited: %v\n%s", addr, err, n.logs())
		default:
		}
		if time.Now().After(deadline) {
			n.stop(tb)
			tb.Fatalf("node %s did not start:\n%s", addr, n.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the node, waking it first if it was stopped, and waits for it
// to exit; it shows the node's log if tb failed. Later calls do nothing.
func (n *node) stop(tb testing.TB) {
	n.stopped.Do(func() {
		_ = n.cmd.Process.Signal(syscall.SIGCONT)
		_ = n.cmd.Process.Kill()
		<-n.exit
		if tb.Failed() {
			tb.Logf("log of node %s:\n%s", n.name, n.logs())
		}
	})
}

// hook is a webhook the app received.
type hook struct {
	Type    string `json:"eventType"`
	CallID  string `json:"callId"`
	Cause   string `json:"cause"`
	Message string `json:"errorMessage"`
}

// app is the customer's app: it answers calls with BXML by path and keeps
// the webhooks it took in order. Disconnects of calls in hold wait until
// the test lets them go; one whose sender goes away first was not taken.
type app struct {
	url  string
	mu   sync.Mutex
	got  []hook
	hold map[string]bool
	free chan struct{}
	// holding counts the disconnects held; aborted those of them whose
	// sender went away.
	holding, aborted int
}

func newApp(t *testing.T, addr string) *app {
	a := &app{hold: map[string]bool{}, free: make(chan struct{})}
	a.url = serveApp(t, addr, a)
	return a
}

// serveApp serves h on addr until the test ends and returns its URL.
func serveApp(tb testing.TB, addr string, h http.Handler) string {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var h hook
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &h); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if h.Type == "disconnect" {
		a.mu.Lock()
		held := a.hold[h.CallID]
		if held {
			a.holding++
		}
		a.mu.Unlock()
		if held {
			select {
			case <-a.free:
			case <-r.Context().Done():
				a.mu.Lock()
				a.aborted++
				a.mu.Unlock()
				return // the node died with it in flight: not taken
			}
		}
	}
	a.mu.Lock()
	a.got = append(a.got, h)
	a.mu.Unlock()
	switch r.URL.Path {
	case "/answer":
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<Response><Pause duration="600"/></Response>`)
	case "/answer-conference":
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<Response><Conference>room</Conference></Response>`)
	case "/answer-short":
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<Response><Pause duration="4"/><Hangup/></Response>`)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// of returns the webhooks of a call, in the order taken.
func (a *app) of(callID string) []hook {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []hook
	for _, h := range a.got {
		if h.CallID == callID {
			out = append(out, h)
		}
	}
	return out
}

// waitFor waits until cond holds, up to limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call creates a call on n and returns its id.
func call(t *testing.T, n *node, a *app, to, answer string) string {
	t.Helper()
	body := fmt.Sprintf(`{"from":"+15551234567","to":%q,"applicationId":%q,"answerUrl":"%s%s","disconnectUrl":"%s/disconnect"}`,
		to, appID, a.url, answer, a.url)
	resp, out := do(t, "POST", n.url+"/api/v2/accounts/"+account+"/calls", body, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("createCall on %s: %d %s", n.name, resp.StatusCode, out)
	}
	var c struct{ CallID string }
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatal(err)
	}
	return c.CallID
}

func do(t *testing.T, method, url, body string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("dev", "dev")
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// owners returns the owner node of each call, from the database.
func owners(t *testing.T, dsn string) map[string]string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), "SELECT call_id, owner_node FROM calls")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var id, owner string
		if err := rows.Scan(&id, &owner); err != nil {
			t.Fatal(err)
		}
		out[id] = owner
	}
	return out
}

// answered waits until the app has answered each call.
func answered(t *testing.T, a *app, ids ...string) {
	t.Helper()
	for _, id := range ids {
		waitFor(t, 15*time.Second, "call "+id+" was not answered", func() bool {
			hs := a.of(id)
			return len(hs) > 0 && hs[0].Type == "answer"
		})
	}
}

// oneDisconnect waits for a call's disconnect and checks that the call got
// its answer, then exactly one disconnect, last, with that cause and, when
// given, a message naming what.
func oneDisconnect(t *testing.T, a *app, id, cause, naming string) {
	t.Helper()
	waitFor(t, 20*time.Second, "no disconnect for call "+id, func() bool {
		hs := a.of(id)
		return len(hs) > 0 && hs[len(hs)-1].Type == "disconnect"
	})
	hs := a.of(id)
	if len(hs) != 2 || hs[0].Type != "answer" || hs[1].Type != "disconnect" {
		t.Errorf("call %s: webhooks %+v; want answer then one disconnect", id, hs)
		return
	}
	if d := hs[1]; d.Cause != cause || !strings.Contains(d.Message, naming) {
		t.Errorf("call %s: disconnect cause %s, %q; want %s naming %q", id, d.Cause, d.Message, cause, naming)
	}
}

// TestThreeNodes: three nodes on one database. Calls spread across the
// nodes that take them; any node answers for any call; a node killed with
// kill -9 has each of its calls ended once by a survivor, its queued
// disconnects delivered; a node frozen past its lease and woken cannot
// touch the calls it lost, and stops; SIGTERM drains.
func TestThreeNodes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := newApp(t, "127.0.0.190:0")
	n1 := startNode(t, dsn, "127.0.0.191:28080")
	n2 := startNode(t, dsn, "127.0.0.192:28080")
	n3 := startNode(t, dsn, "127.0.0.193:28080")

	// Calls spread: each node owns the calls it created.
	byNode := map[*node][]string{}
	for _, n := range []*node{n1, n2, n3} {
		for range 3 {
			byNode[n] = append(byNode[n], call(t, n, a, "+15550000000", "/answer"))
		}
	}
	// n2 also has calls whose far end hangs up, and whose disconnect the
	// app holds: they are in flight when n2 dies.
	var held []string
	for range 2 {
		id := call(t, n2, a, "+15550000200", "/answer")
		a.mu.Lock()
		a.hold[id] = true
		a.mu.Unlock()
		held = append(held, id)
	}
	for _, ids := range byNode {
		answered(t, a, ids...)
	}
	owner := owners(t, dsn)
	for n, ids := range byNode {
		for _, id := range ids {
			if owner[id] != n.name {
				t.Fatalf("call %s created on %s is owned by %q", id, n.name, owner[id])
			}
		}
	}

	// Any node answers for any call: n1 reads and ends one of n3's.
	ended := byNode[n3][0]
	byNode[n3] = byNode[n3][1:]
	resp, out := do(t, "GET", n1.url+"/api/v2/accounts/"+account+"/calls/"+ended, "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), ended) {
		t.Fatalf("GET of n3's call on n1: %d %s", resp.StatusCode, out)
	}
	if resp, out := do(t, "POST", n1.url+"/api/v2/accounts/"+account+"/calls/"+ended, `{"state":"completed"}`, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("ending n3's call on n1: %d %s", resp.StatusCode, out)
	}
	oneDisconnect(t, a, ended, "hangup", "")
	// A forged hop is refused.
	resp, out = do(t, "POST", n1.url+"/api/v2/accounts/"+account+"/calls/"+byNode[n3][0], `{"state":"completed"}`,
		http.Header{"Voicehook-Forwarded-By": {"intruder"}, "Voicehook-Cluster-Secret": {"guess"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(out), "secret") {
		t.Fatalf("a forwarded request with the wrong secret: %d %s; want 403 naming the secret", resp.StatusCode, out)
	}
	// A conference runs on the node of the call that made it; any node
	// answers for it.
	member := call(t, n3, a, "+15550000000", "/answer-conference")
	answered(t, a, member)
	byNode[n3] = append(byNode[n3], member)
	var confs []struct{ ID string }
	waitFor(t, 10*time.Second, "n1 does not list n3's conference", func() bool {
		_, out := do(t, "GET", n1.url+"/api/v2/accounts/"+account+"/conferences?name=room", "", nil)
		return json.Unmarshal(out, &confs) == nil && len(confs) == 1
	})
	confURL := "/api/v2/accounts/" + account + "/conferences/" + confs[0].ID
	if resp, out := do(t, "PUT", n1.url+confURL+"/members/"+member, `{"mute":true}`, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("muting n3's conference member on n1: %d %s", resp.StatusCode, out)
	}
	if _, out := do(t, "GET", n2.url+confURL+"/members/"+member, "", nil); !strings.Contains(string(out), `"mute":true`) {
		t.Fatalf("n3's conference member, read on n2: %s; want it muted", out)
	}
	// A simulated phone scripted on one node is scripted on all.
	if resp, out := do(t, "PUT", n1.url+"/sim/v1/phones/+15557770123", `{"outcome":"busy"}`, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("scripting a phone on n1: %d %s", resp.StatusCode, out)
	}
	busy := call(t, n2, a, "+15557770123", "/answer")
	waitFor(t, 10*time.Second, "the busy phone's call did not end", func() bool { return len(a.of(busy)) == 1 })
	if hs := a.of(busy); hs[0].Type != "disconnect" || hs[0].Cause != "busy" {
		t.Fatalf("a call on n2 to the phone scripted on n1: %+v; want it busy", hs)
	}

	// The listing of any node shows the cluster's calls.
	resp, out = do(t, "GET", n3.url+"/api/v2/accounts/"+account+"/calls?pageSize=100", "", nil)
	var listed []struct{ CallID string }
	if err := json.Unmarshal(out, &listed); err != nil || resp.StatusCode != http.StatusOK || len(listed) != 13 {
		t.Fatalf("listing on n3: %d, %d calls, %v; want all 13", resp.StatusCode, len(listed), err)
	}

	// kill -9 of n2, its disconnects in flight: a survivor ends each of its
	// calls once, and sends the held disconnects.
	waitFor(t, 15*time.Second, "the held disconnects did not reach the app", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.holding == len(held)
	})
	killed := time.Now()
	if err := n2.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-n2.exit
	n2.exit <- nil
	waitFor(t, 5*time.Second, "the app did not see the held disconnects' connections close", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.aborted == len(held)
	})
	close(a.free)
	for _, id := range byNode[n2] {
		oneDisconnect(t, a, id, "error", "node "+n2.name+" failed")
	}
	for _, id := range held {
		oneDisconnect(t, a, id, "hangup", "")
	}
	t.Logf("n2's calls ended %v after kill -9 (lease %v)", time.Since(killed).Round(10*time.Millisecond), lease)
	after := owners(t, dsn)
	for _, id := range append(byNode[n2], held...) {
		if after[id] == n2.name {
			t.Errorf("call %s is still n2's", id)
		}
	}

	// SIGSTOP of n3 past its lease, with a call whose pause ends while it
	// is stopped: n1 adopts its calls; when n3 wakes it sends nothing for
	// them, writes nothing, and exits.
	short := call(t, n3, a, "+15550000000", "/answer-short")
	answered(t, a, short)
	if err := n3.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	for _, id := range append(byNode[n3], short) {
		oneDisconnect(t, a, id, "error", "node "+n3.name+" failed")
	}
	before := owners(t, dsn)
	if err := n3.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-n3.exit:
		n3.exit <- err
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("n3 woke and exited with %v; want status 1", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("n3 woke and did not stop")
	}
	if log := n3.logs(); !strings.Contains(log, "lost its lease") {
		t.Errorf("n3's log does not say it lost its lease:\n%s", log)
	}
	oneDisconnect(t, a, short, "error", "node "+n3.name+" failed") // no hangup from n3 after it woke
	after = owners(t, dsn)
	for _, id := range append(byNode[n3], short) {
		if after[id] != before[id] || after[id] == n3.name {
			t.Errorf("call %s: owner %q before n3 woke, %q after", id, before[id], after[id])
		}
		// The call as stored is the survivor's: n3's hangup of the short
		// call, due while it was stopped, was refused.
		_, out := do(t, "GET", n1.url+"/api/v2/accounts/"+account+"/calls/"+id, "", nil)
		var c struct{ DisconnectCause, ErrorMessage string }
		if err := json.Unmarshal(out, &c); err != nil || c.DisconnectCause != "error" || !strings.Contains(c.ErrorMessage, "node "+n3.name+" failed") {
			t.Errorf("call %s as stored after n3 woke: %s; want cause error naming n3", id, out)
		}
	}

	// The conference ended with its only member.
	waitFor(t, 10*time.Second, "n3's conference is still active", func() bool {
		_, out := do(t, "GET", n1.url+confURL, "", nil)
		return strings.Contains(string(out), `"completedTime":"`)
	})

	// SIGTERM drains n1: no new calls, the live ones end with one
	// disconnect each after --drain-timeout.
	for _, id := range byNode[n1] {
		if hs := a.of(id); len(hs) != 1 {
			t.Fatalf("n1's call %s: %+v before the drain; want only its answer", id, hs)
		}
	}
	if err := n1.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "n1 does not say it drains", func() bool { return strings.Contains(n1.logs(), "draining") })
	body := fmt.Sprintf(`{"from":"+15551234567","to":"+15550000000","applicationId":%q,"answerUrl":"%s/answer"}`, appID, a.url)
	if resp, out := do(t, "POST", n1.url+"/api/v2/accounts/"+account+"/calls", body, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("createCall on a draining node: %d %s; want 503", resp.StatusCode, out)
	}
	for _, id := range byNode[n1] {
		oneDisconnect(t, a, id, "error", "drain")
	}
	select {
	case err := <-n1.exit:
		n1.exit <- err
		if err != nil {
			t.Errorf("n1 drained and exited with %v; want status 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("n1 did not stop after draining")
	}
}

// TestAdoptedSIPCallGetsBye: a node dies with a real SIP call answered;
// the survivor ends the far end's dialog with a BYE built from the state
// stored at answer, so the carrier stops billing, and the app gets one
// disconnect.
func TestAdoptedSIPCallGetsBye(t *testing.T) {
	sipp := need(t, "sipp", "sip-tester")
	dsn := pgtest.NewDatabase(t)
	a := newApp(t, "127.0.0.190:0")
	survivor := startNode(t, dsn, "127.0.0.194:28080", "--sip-addr", "127.0.0.194:5060", "--rtp-ports", "33200-33299")
	doomed := startNode(t, dsn, "127.0.0.196:28080", "--sip-addr", "127.0.0.196:5060", "--rtp-ports", "33300-33399")

	// The far end: SIPp answers, then waits up to 20 s for a BYE, and
	// succeeds only if one comes.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	scenario, err := filepath.Abs("../sip/scenarios/uas-answer.xml")
	if err != nil {
		t.Fatal(err)
	}
	phone := exec.CommandContext(ctx, sipp, "-sf", scenario, "-i", "127.0.0.195", "-p", "5070",
		"-m", "1", "-nostdin", "-timeout", "50s", "-timeout_error", "-mp", "33400")
	phone.Dir = t.TempDir()
	var out bytes.Buffer
	phone.Stdout, phone.Stderr = &out, &out
	if err := phone.Start(); err != nil {
		t.Fatal(err)
	}
	phoneDone := make(chan error, 1)
	go func() { phoneDone <- phone.Wait() }()
	time.Sleep(300 * time.Millisecond) // SIPp binds its port

	id := call(t, doomed, a, "sip:phone@127.0.0.195:5070", "/answer")
	select {
	case err := <-phoneDone:
		t.Fatalf("SIPp ended before the call: %v\n%s", err, out.String())
	default:
	}
	answered(t, a, id)
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	waitFor(t, 5*time.Second, "the call's dialog was not stored", func() bool {
		var n int
		_ = conn.QueryRow(t.Context(), "SELECT count(*) FROM calls WHERE call_id = $1 AND dialog IS NOT NULL", id).Scan(&n)
		return n == 1
	})
	if err := doomed.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	oneDisconnect(t, a, id, "error", "node "+doomed.name+" failed")
	select {
	case err := <-phoneDone:
		if err != nil {
			t.Fatalf("the far end got no BYE from the survivor (SIPp: %v):\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the far end is still in the call:\n%s", out.String())
	}
	resp, body := do(t, "GET", survivor.url+"/api/v2/accounts/"+account+"/calls/"+id, "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"disconnected"`) {
		t.Errorf("the call on the survivor: %d %s", resp.StatusCode, body)
	}
}

// TestLoneNodeWakes: a node with no other to adopt its calls, stopped past
// its lease (a laptop asleep), renews it when it wakes and carries on with
// its calls.
func TestLoneNodeWakes(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := newApp(t, "127.0.0.190:0")
	n := startNode(t, dsn, "127.0.0.196:28081")
	id := call(t, n, a, "+15550000000", "/answer")
	answered(t, a, id)
	if err := n.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * lease)
	if err := n.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if resp, out := do(t, "POST", n.url+"/api/v2/accounts/"+account+"/calls/"+id, `{"state":"completed"}`, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("ending the call after the node woke: %d %s", resp.StatusCode, out)
	}
	oneDisconnect(t, a, id, "hangup", "")
	select {
	case err := <-n.exit:
		n.exit <- err
		t.Fatalf("the node exited after it woke: %v", err)
	case <-time.After(2 * lease):
	}
}
