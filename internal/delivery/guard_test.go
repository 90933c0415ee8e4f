package delivery

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/voicehook/voicehook/internal/egress"
	"github.com/voicehook/voicehook/internal/engine"
)

// guarded is a client with the guard on that allows only the prefixes
// given.
func guarded(t testing.TB, allow ...string) *http.Client {
	var prefixes []netip.Prefix
	for _, a := range allow {
		prefixes = append(prefixes, netip.MustParsePrefix(a))
	}
	c := egress.New(egress.Config{Guard: true, Allow: prefixes})
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// countingOn is an app on ip (in 127.0.0.0/8) that answers okBXML and
// counts its requests.
func countingOn(t *testing.T, ip string, hits *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		io.WriteString(w, okBXML)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestSendRefusedByGuardGoesToFallbackWithoutRetry(t *testing.T) {
	var hits atomic.Int64
	refused := countingOn(t, "127.0.0.2", &hits) + "/answer"
	backup := newApp(t, nil)
	s := newSender(t, Config{Client: guarded(t, "127.0.0.1/32")})

	reply, err := s.Send(t.Context(), webhook(engine.Target{URL: refused, FallbackURL: backup.URL}))
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(strings.TrimSuffix(refused, "/answer"), "http://")
	checkAttempts(t, reply.Attempts, []engine.Attempt{
		{URL: refused, Method: "POST", Err: "refused to connect to " + host +
			": loopback addresses are not allowed for outbound requests (allow with --webhook-allow 127.0.0.2/32)", Outcome: engine.OutcomeRefused},
		{URL: backup.URL, Method: "POST", Fallback: true, Status: 200, Outcome: engine.OutcomeOK},
	})
	if n := hits.Load(); n != 0 {
		t.Errorf("the refused app got %d requests", n)
	}
}

func TestSendAllRefusedIsADeliveryError(t *testing.T) {
	a := newApp(t, nil)
	s := newSender(t, Config{Client: guarded(t)})
	_, err := s.Send(t.Context(), webhook(engine.Target{URL: a.URL + "/answer", FallbackURL: a.URL + "/fallback"}))
	var de *engine.DeliveryError
	if !errors.As(err, &de) || len(de.Attempts) != 2 || strings.Count(de.Reason, "allow with --webhook-allow 127.0.0.1/32") != 2 {
		t.Fatalf("err %v, want a DeliveryError naming the flag for each URL", err)
	}
	if n := a.hits(); n != 0 {
		t.Errorf("the app got %d requests", n)
	}
}

func TestNotifyRefusedByGuardNotRetried(t *testing.T) {
	a := newApp(t, nil)
	s := newSender(t, Config{Client: guarded(t)})
	done := make(chan []engine.Attempt, 1)
	if err := s.Notify(t.Context(), webhook(engine.Target{URL: a.URL + "/status"}), func(at []engine.Attempt) { done <- at }); err != nil {
		t.Fatal(err)
	}
	got := waitDone(t, done)
	if len(got) != 1 || !strings.HasPrefix(got[0].Err, "refused to connect to 127.0.0.1:") || got[0].Status != 0 ||
		got[0].Outcome != engine.OutcomeRefused {
		t.Errorf("attempts %+v, want one refusal, outcome %q", got, engine.OutcomeRefused)
	}
	if n := a.hits(); n != 0 {
		t.Errorf("the app got %d requests", n)
	}
}

// BenchmarkSendKeptAlive delivers a synchronous webhook over a kept-alive
// loopback connection, with the guard off and on (127.0.0.1 allowed): the
// guard checks an address when it is dialled, so per request it should
// cost nothing. Compare with
//
//	go test -run '^$' -bench SendKeptAlive -count 6 ./internal/delivery > bench.txt
//	go tool benchstat -col /guard bench.txt
func BenchmarkSendKeptAlive(b *testing.B) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, okBXML)
	}))
	defer app.Close()
	for _, bc := range []struct {
		name   string
		client func(testing.TB) *http.Client
	}{
		{"guard=off", func(tb testing.TB) *http.Client {
			c := egress.New(egress.Config{})
			tb.Cleanup(c.CloseIdleConnections)
			return c
		}},
		{"guard=on", func(tb testing.TB) *http.Client { return guarded(tb, "127.0.0.1/32") }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := New(Config{Client: bc.client(b)})
			defer s.Close(b.Context())
			w := webhook(engine.Target{URL: app.URL + "/answer"})
			if _, err := s.Send(b.Context(), w); err != nil { // dial once, outside the loop
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Send(b.Context(), w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
