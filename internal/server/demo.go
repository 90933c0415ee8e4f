package server

import (
	"io"
	"net/http"
)

// demoGreeting is what the demo app's answer webhook returns.
const demoGreeting = `<?xml version="1.0" encoding="UTF-8"?><Response><SpeakSentence>Hello from voicehook. This call will now end.</SpeakSentence><Hangup/></Response>`

// demoApp is a tiny voice app served beside the API at /demo/, so that a
// first call can be placed before writing an app: /demo/answer speaks a
// greeting and hangs up; every other /demo/ URL accepts a webhook with 204.
func demoApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 1<<20))
		if r.URL.Path == "/demo/answer" {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			_, _ = io.WriteString(w, demoGreeting)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
