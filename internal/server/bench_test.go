package server_test

import (
	"context"
	stdjson "encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/server"
)

// benchApp is a minimal app for the benchmarks: it answers with reply,
// counts answers and disconnects, and records how long each answer webhook
// took to arrive after the call was answered.
type benchApp struct {
	*httptest.Server
	answers, disconnects atomic.Int64
	mu                   sync.Mutex
	latencies            []time.Duration
}

func newBenchApp(reply string) *benchApp { return newBenchAppOn("127.0.0.1:0", reply) }

// newBenchAppOn is newBenchApp listening on addr.
func newBenchAppOn(addr, reply string) *benchApp {
	a := &benchApp{}
	a.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/answer":
			var ev struct{ AnswerTime time.Time }
			if stdjson.Unmarshal(body, &ev) == nil && !ev.AnswerTime.IsZero() {
				a.mu.Lock()
				a.latencies = append(a.latencies, arrived.Sub(ev.AnswerTime))
				a.mu.Unlock()
			}
			a.answers.Add(1)
			io.WriteString(w, reply)
		case "/disconnect":
			a.disconnects.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		panic(fmt.Sprintf("bench app: %v", err))
	}
	a.Listener.Close()
	a.Listener = ln
	a.Start()
	return a
}

func benchServer(b *testing.B) *server.Server { return benchServerWith(b, server.Config{}) }

// benchServerWith starts a server configured by cfg, on a fresh database,
// with a phone that answers at once.
func benchServerWith(b *testing.B, cfg server.Config) *server.Server {
	cfg.Addr, cfg.DB = "127.0.0.1:0", filepath.Join(b.TempDir(), "bench.db")
	cfg.Phones = map[string]sim.Script{"+15559990000": {Ring: time.Millisecond}}
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close(context.Background()) })
	return srv
}

// placeCalls creates n calls from workers goroutines, paced at rate calls
// a second (0: as fast as possible).
func placeCalls(b *testing.B, srv *server.Server, app *benchApp, n, workers int, rate float64) {
	placeCallsOn(b, []string{srv.URL()}, app, n, workers, rate)
}

// placeCallsOn is placeCalls on several servers, by base URL: the i-th
// call goes to urls[i%len(urls)].
func placeCallsOn(b *testing.B, urls []string, app *benchApp, n, workers int, rate float64) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	body := fmt.Sprintf(`{"from":"+15551112222","to":"+15559990000","applicationId":"%s","answerUrl":"%s/answer","disconnectUrl":"%s/disconnect"}`,
		appID, app.URL, app.URL)
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if rate > 0 {
					time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
				}
				req, _ := http.NewRequest("POST", urls[i%int64(len(urls))]+"/api/v2/accounts/9900000/calls", strings.NewReader(body))
				req.SetBasicAuth("dev", "dev")
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					b.Errorf("createCall: %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func waitCount(b *testing.B, c *atomic.Int64, n int64, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for c.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d after %v", c.Load(), n, limit)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkCallsPerSecond drives full calls — create, answer webhook that
// returns <Hangup/>, disconnect webhook — as fast as they go, with the
// SQLite store. It reports completed calls per second, with unsigned
// webhooks (signing=off) and with webhooks signed by one secret
// (signing=on); compare the two with benchstat:
//
//	go test -run '^$' -bench 'CallsPerSecond' -count 6 ./internal/server | tee calls.txt
//	go tool benchstat -col /signing calls.txt
func BenchmarkCallsPerSecond(b *testing.B) {
	for _, signing := range []string{"off", "on"} {
		b.Run("signing="+signing, func(b *testing.B) {
			var cfg server.Config
			if signing == "on" {
				cfg.WebhookSecrets = []string{secretNew}
			}
			srv := benchServerWith(b, cfg)
			app := newBenchApp(`<Response><Hangup/></Response>`)
			defer app.Close()
			start := time.Now()
			placeCalls(b, srv, app, b.N, 32, 0)
			waitCount(b, &app.disconnects, int64(b.N), time.Minute)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		})
	}
}

// BenchmarkLoopbackLimit measures the ceiling BenchmarkCallsPerSecond is
// held to on this machine: the 32 clients of placeCalls doing HTTP POST
// round trips with a small JSON body against a handler that reads it and
// answers 204, as fast as they go. It reports round-trips/s and
// calls/s-limit, a third of that, since a call takes three round trips
// (createCall, the answer webhook, the disconnect webhook). Measure both in
// one run, so that their ratio is taken on the same day's machine:
//
//	go test -run '^$' -bench 'CallsPerSecond/signing=off|LoopbackLimit' -count 5 ./internal/server | tee limit.txt
func BenchmarkLoopbackLimit(b *testing.B) {
	const workers = 32
	ln, err := net.Listen("tcp", "127.0.0.252:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	body := `{"from":"+15551112222","to":"+15559990000","applicationId":"` + appID + `","answerUrl":"` + srv.URL + `/answer"}`
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				resp, err := client.Post(srv.URL+"/calls", "application/json", strings.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	perSecond := float64(b.N) / time.Since(start).Seconds()
	b.ReportMetric(perSecond, "round-trips/s")
	b.ReportMetric(perSecond/3, "calls/s-limit")
}

// BenchmarkAnswerLatency places calls at a steady 500 calls a second and
// reports the median and 99th percentile of the time from the answer to
// the answer webhook's arrival at the app (measured against the answerTime
// the webhook carries, which has millisecond precision).
func BenchmarkAnswerLatency(b *testing.B) {
	srv := benchServer(b)
	app := newBenchApp(`<Response><Hangup/></Response>`)
	defer app.Close()
	n := max(b.N, 1000)
	placeCalls(b, srv, app, n, 64, 500)
	waitCount(b, &app.disconnects, int64(n), time.Minute)
	app.mu.Lock()
	lat := slices.Clone(app.latencies)
	app.mu.Unlock()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100])/float64(time.Millisecond), "p99-ms")
}

// BenchmarkMemoryPerPausedCall holds 20 000 calls in <Pause duration="600"/>
// and reports the heap and stacks they take, per call.
func BenchmarkMemoryPerPausedCall(b *testing.B) {
	const calls = 20000
	for range b.N {
		srv := benchServer(b)
		app := newBenchApp(`<Response><Pause duration="600"/></Response>`)
		before := memInUse()
		placeCalls(b, srv, app, calls, 32, 0)
		waitCount(b, &app.answers, calls, 2*time.Minute)
		time.Sleep(200 * time.Millisecond) // let the replies be applied
		after := memInUse()
		b.ReportMetric(float64(after-before)/calls/1024, "KB/call")
		app.Close()
	}
}

func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
