package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/internal/server"
)

// TestServeAdminAddr: VOICEHOOK_ADMIN_ADDR opens the admin listener, the
// banner names its metrics URL, and the metrics answer there.
func TestServeAdminAddr(t *testing.T) {
	t.Setenv("VOICEHOOK_ADMIN_ADDR", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	var admin string
	go func() {
		done <- serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, &stdout, &stderr, func(s *server.Server) {
			defer cancel()
			admin = s.AdminURL()
			resp, err := http.Get(admin + "/metrics")
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.Contains(string(body), "voicehook_calls_active") {
				t.Errorf("GET %s/metrics: %d %.200s", admin, resp.StatusCode, body)
			}
		})
	}()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if admin == "" || !strings.Contains(stdout.String(), "metrics    "+admin+"/metrics") {
		t.Errorf("the banner does not name the admin URL %q:\n%s", admin, stdout.String())
	}
}

func TestServeRefusesDefaultCredentialsOnAdminOffLoopback(t *testing.T) {
	var stdout, stderr syncBuffer
	// 0.0.0.0 is a listen address, refused before listening: nothing is dialled.
	code := serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--admin-addr", "0.0.0.0:0", "--db", ":memory:"}, &stdout, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), "refusing to serve metrics and profiles on 0.0.0.0:0 with the default credentials") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
