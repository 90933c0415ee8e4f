package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestLongResponsesMoveTheirDeadline: an ordinary response that takes
// longer than WriteTimeout is cut off, while a recording's audio that
// keeps going, a write at a time, runs past it for as long as it goes on.
func TestLongResponsesMoveTheirDeadline(t *testing.T) {
	s := &Server{cfg: Config{WriteTimeout: 200 * time.Millisecond, BodyTimeout: time.Second}}
	// slow writes ten chunks, one every 60 ms: 600 ms in all, each write
	// well within the write timeout.
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tick := time.NewTicker(60 * time.Millisecond)
		defer tick.Stop()
		for range 10 {
			<-tick.C
			if _, err := io.WriteString(w, strings.Repeat("x", 64<<10)); err != nil {
				return
			}
			http.NewResponseController(w).Flush()
		}
	})
	srv := httptest.NewServer(s.deadlines(slow))
	defer srv.Close()
	get := func(path string) (int, error) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		return int(n), err
	}
	if n, err := get("/api/v2/accounts/1/calls/c-1/recordings/r-1/media"); err != nil || n != 10*64<<10 {
		t.Errorf("download: %d bytes, %v; want all %d", n, err, 10*64<<10)
	}
	if n, err := get("/api/v2/accounts/1/calls"); err == nil && n == 10*64<<10 {
		t.Errorf("an ordinary response ran %d bytes past the write timeout", n)
	}
}
