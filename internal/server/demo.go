package server

import (
	"io"
	"net/http"
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
