package delivery

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// request is what a test server saw.
type request struct {
	Method      string
	Path        string
	RawQuery    string
	ContentType string
	UserAgent   string
	Auth        string
	Body        []byte
}

// app is a test webhook receiver on loopback that records its requests and
// answers with its handler (default: 200 and a small BXML document).
type app struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
}

const okBXML = `<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>`

func newApp(t *testing.T, h http.HandlerFunc) *app {
	t.Helper()
	if h == nil {
		h = func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			io.WriteString(w, okBXML)
		}
	}
	a := &app{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.requests = append(a.requests, request{
			Method:      r.Method,
			Path:        r.URL.Path,
			RawQuery:    r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"),
			UserAgent:   r.Header.Get("User-Agent"),
			Auth:        r.Header.Get("Authorization"),
			Body:        body,
		})
		a.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *app) seen() []request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]request(nil), a.requests...)
}

func (a *app) hits() int { return len(a.seen()) }

// status is a handler that answers with code and no body.
func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// blocking is a handler that reports each request on entered and answers
// 200 once release is closed, or gives up when the client does.
type blocking struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

// Release lets the requests waiting, and any to come, be answered.
func (b *blocking) Release() { b.once.Do(func() { close(b.release) }) }

func newBlocking(t *testing.T) (*app, *blocking) {
	t.Helper()
	b := &blocking{entered: make(chan struct{}, 16), release: make(chan struct{})}
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		b.entered <- struct{}{}
		select {
		case <-b.release:
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
		}
	})
	// Cleanups run last-in first-out: release before the server closes.
	t.Cleanup(b.Release)
	return a, b
}

// waitEntered waits for the blocking handler to receive a request.
func (b *blocking) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-b.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("request did not arrive")
	}
}

// closedURL is the URL of a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/answer"
}

func newSender(t *testing.T, cfg Config) *Sender {
	t.Helper()
	s := New(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func answerEvent() *callback.Answer {
	return &callback.Answer{
		Header: callback.Header{EventTime: callback.TimeOf(time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC))},
		Call: callback.Call{Leg: callback.Leg{
			AccountID: "9900000",
			CallID:    "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85",
			From:      "+15551112222",
			To:        "+15553334444",
			Direction: callback.Outbound,
		}},
	}
}

func webhook(target engine.Target) engine.Webhook {
	return engine.Webhook{CallID: "c-1", Event: answerEvent(), Target: target, Timeout: 2 * time.Second}
}

// waitDone waits for a Notify's done function to be called.
func waitDone(t *testing.T, ch <-chan []engine.Attempt) []engine.Attempt {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(5 * time.Second):
		t.Fatal("done was not called")
		return nil
	}
}

// poll calls cond until it reports true, failing the test after a while.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// closing reports whether Close has been called.
func (s *Sender) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
