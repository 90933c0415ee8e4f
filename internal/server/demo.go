package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
)

// demoGreeting is what the demo app's answer webhook returns.
const demoGreeting = `<?xml version="1.0" encoding="UTF-8"?><Response><SpeakSentence>Hello from voicehook. This call will now end.</SpeakSentence><Hangup/></Response>`

// demoApp is a tiny voice app served beside the API at /demo/, so that a
// first call can be placed before writing an app: /demo/answer speaks a
// greeting and hangs up; /demo/disconnect accepts a webhook with 204. Any
// other /demo/ URL is 404, so a misspelt one fails the call visibly (a
// callback-error) instead of ending it quietly.
func demoApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 1<<20))
		switch r.URL.Path {
		case "/demo/answer":
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			_, _ = io.WriteString(w, demoGreeting)
		case "/demo/disconnect":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "The demo app has no "+r.URL.Path+": it serves /demo/answer (speaks a greeting and hangs up) and /demo/disconnect", http.StatusNotFound)
		}
	})
}

// demoTransport serves requests for the server's own demo app in process
// and passes every other request on. Beyond loopback the guard refuses
// the server's own address (it is loopback or private), which would make
// the banner's first call end in callback-error; the demo app is part of
// voicehook, not an app somewhere on the network, so no address is
// dialled for it. Only the exact host of the server's base URL is served
// this way: the same app reached under another name goes through the
// guard like any URL.
type demoTransport struct {
	host string // host:port of the server's base URL
	demo http.Handler
	next http.RoundTripper
}

func (t *demoTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "http" || r.URL.Host != t.host || !strings.HasPrefix(r.URL.Path, "/demo/") {
		return t.next.RoundTrip(r)
	}
	in := r.Clone(r.Context())
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.demo.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the next transport.
func (t *demoTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
