package cluster_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/store/postgres/pgtest"
)

// benchLease is the lease of the nodes of BenchmarkAdoption.
const benchLease = time.Second

// BenchmarkAdoption measures how long the calls of a node that dies take
// to end: one node process holds N live calls, each answered by a
// simulated phone that stays and paused by its app for ten minutes; it is
// killed with kill -9, and a second node process adopts its calls and ends
// each with its disconnect, cause error. Each iteration has a database and
// processes of its own. It reports ms/adoption, from the kill to the app's
// N-th disconnect; ms-after-lease, that less the lease (1 s), which no
// survivor can shorten; µs/call, ms-after-lease per call; and the resident
// memory of the node that held the calls, in MB-rss-dead, and of the
// survivor after adopting them, in MB-rss-survivor:
//
//	go test -run '^$' -bench Adoption -benchtime 1x -count 1 ./test/cluster
func BenchmarkAdoption(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run("calls="+strconv.Itoa(n), func(b *testing.B) {
			var total, rssDead, rssSurvivor float64
			for range b.N {
				r := adoptOnce(b, n)
				total += float64(r.took) / float64(time.Millisecond)
				rssDead += r.rssDead
				rssSurvivor += r.rssSurvivor
			}
			perIter := total / float64(b.N)
			after := perIter - float64(benchLease)/float64(time.Millisecond)
			b.ReportMetric(perIter, "ms/adoption")
			b.ReportMetric(after, "ms-after-lease")
			b.ReportMetric(after*1000/float64(n), "µs/call")
			b.ReportMetric(rssDead/float64(b.N), "MB-rss-dead")
			b.ReportMetric(rssSurvivor/float64(b.N), "MB-rss-survivor")
		})
	}
}

// adoption is what one round of BenchmarkAdoption measured.
type adoption struct {
	took                 time.Duration
	rssDead, rssSurvivor float64
}

// adoptOnce runs one round of BenchmarkAdoption with n calls. The
// benchmark's timer runs only from the kill to the last disconnect.
func adoptOnce(b *testing.B, n int) adoption {
	b.StopTimer()
	// Each node may hold 8 connections: several benchmarks and tests
	// share the server's 100.
	dsn := pgtest.NewDatabase(b) + "&pool_max_conns=8"
	a := newCountingApp(b, "127.0.0.250:0")
	doomed := startBenchNode(b, dsn, "127.0.0.249:28080")
	survivor := startBenchNode(b, dsn, "127.0.0.251:28080")
	defer survivor.stop(b)
	defer doomed.stop(b)

	createCalls(b, doomed, a, n, 64)
	waitCounter(b, &a.answers, n, 5*time.Minute, "answers")
	rssDead := rssMB(doomed)

	b.StartTimer()
	killed := time.Now()
	if err := doomed.cmd.Process.Kill(); err != nil {
		b.Fatal(err)
	}
	waitCounter(b, &a.errored, n, 5*time.Minute, "disconnects with cause error")
	b.StopTimer()
	a.mu.Lock()
	last := a.last
	a.mu.Unlock()
	if d := a.others.Load(); d != 0 {
		b.Fatalf("%d disconnects with another cause than error", d)
	}
	return adoption{took: last.Sub(killed), rssDead: rssDead, rssSurvivor: rssMB(survivor)}
}

// startBenchNode runs a node on addr, with the lease benchLease, and waits
// until it serves.
func startBenchNode(b *testing.B, dsn, addr string) *node {
	b.Helper()
	return launch(b, dsn, addr, "--node-lease", benchLease.String(), "-q")
}

// rssMB returns the resident memory of a node's process, in MB.
func rssMB(n *node) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if kb, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 64)
			return v / 1024
		}
	}
	return 0
}

// countingApp is the app of BenchmarkAdoption: it pauses every call it
// answers for ten minutes, and counts answers and disconnects, noting
// when the last disconnect with cause error came.
type countingApp struct {
	url                      string
	answers, errored, others atomic.Int64
	mu                       sync.Mutex
	last                     time.Time
}

func newCountingApp(b *testing.B, addr string) *countingApp {
	a := &countingApp{}
	a.url = serveApp(b, addr, a)
	return a
}

func (a *countingApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var h hook
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &h); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch h.Type {
	case "answer":
		a.answers.Add(1)
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, `<Response><Pause duration="600"/></Response>`)
		return
	case "disconnect":
		if h.Cause != "error" {
			a.others.Add(1)
			break
		}
		a.mu.Lock()
		a.last = time.Now()
		a.mu.Unlock()
		a.errored.Add(1)
	}
	w.WriteHeader(http.StatusNoContent)
}

// createCalls creates n calls on node n from workers clients at once.
func createCalls(b *testing.B, on *node, a *countingApp, n, workers int) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: time.Minute}
	defer client.CloseIdleConnections()
	body := fmt.Sprintf(`{"from":"+15551234567","to":"+15550000000","applicationId":%q,"answerUrl":"%s/answer","disconnectUrl":"%s/disconnect"}`,
		appID, a.url, a.url)
	var next atomic.Int64
	var (
		mu     sync.Mutex
		failed error
	)
	fail := func(err error) {
		mu.Lock()
		failed = cmp.Or(failed, err)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest("POST", on.url+"/api/v2/accounts/"+account+"/calls", strings.NewReader(body))
				req.SetBasicAuth("dev", "dev")
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					return
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					fail(fmt.Errorf("createCall on %s: %d %s", on.name, resp.StatusCode, out))
					return
				}
			}
		})
	}
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
}

// waitCounter waits until c reaches n, up to limit.
func waitCounter(b *testing.B, c *atomic.Int64, n int, limit time.Duration, what string) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for c.Load() < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("after %v: %d of %d %s", limit, c.Load(), n, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
