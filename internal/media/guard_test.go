package media_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/voicehook/voicehook/internal/egress"
	"github.com/voicehook/voicehook/internal/media"
)

// audioOn serves h on ip (in 127.0.0.0/8) and counts its requests.
func audioOn(t *testing.T, ip string, hits *atomic.Int64, h http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRedirectToARefusedAddress fetches PlayAudio's file from an allowed
// server that redirects to one the guard refuses: the second server gets
// nothing, and the error names the redirect and the flag.
func TestRedirectToARefusedAddress(t *testing.T) {
	var allowedHits, refusedHits atomic.Int64
	file := wav(7, 8000, 1)
	refused := audioOn(t, "127.0.0.3", &refusedHits, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(file)
	})
	allowed := audioOn(t, "127.0.0.2", &allowedHits, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/direct.wav" {
			w.Header().Set("Content-Type", "audio/wav")
			w.Write(file)
			return
		}
		http.Redirect(w, r, refused+"/hold.wav", http.StatusFound)
	})
	client := egress.New(egress.Config{Guard: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
	defer client.CloseIdleConnections()
	f := media.New(media.Config{Client: client})

	if d, err := f.AudioLength(t.Context(), allowed+"/direct.wav", "", ""); err != nil || d.Seconds() != 1 {
		t.Fatalf("allowed server: %v, %v", d, err)
	}
	_, err := f.AudioLength(t.Context(), allowed+"/hold.wav", "", "")
	var re *egress.RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("redirect to %s: %v, want a refusal", refused, err)
	}
	want := "audio " + allowed + "/hold.wav: redirected to " + refused + "/hold.wav: refused to connect to " +
		strings.TrimPrefix(refused, "http://") + ": loopback addresses are not allowed for outbound requests (allow with --webhook-allow 127.0.0.3/32)"
	if err.Error() != want {
		t.Errorf("error\n%s\nwant\n%s", err, want)
	}
	if allowedHits.Load() != 2 || refusedHits.Load() != 0 {
		t.Errorf("hits: allowed %d, refused %d; want 2 and 0", allowedHits.Load(), refusedHits.Load())
	}
}
