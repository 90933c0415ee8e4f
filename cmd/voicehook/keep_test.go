package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/server"
)

// TestServeKeepFlags: the retention flags and their variables reach the
// server, in days or as durations, 0 keeping forever, and the banner says
// what is in force.
func TestServeKeepFlags(t *testing.T) {
	cfg, banner := serveOnce(t)
	if cfg.KeepCalls != 7*24*time.Hour || cfg.KeepRecordings != 30*24*time.Hour {
		t.Errorf("defaults: keep calls %v, recordings %v; want 168h and 720h", cfg.KeepCalls, cfg.KeepRecordings)
	}
	if !strings.Contains(banner, "retention  calls 7d after they end, recordings 30d") {
		t.Errorf("banner:\n%s", banner)
	}

	cfg, banner = serveOnce(t, "--keep-calls", "36h", "--keep-recordings", "0")
	if cfg.KeepCalls != 36*time.Hour || cfg.KeepRecordings != server.KeepForever {
		t.Errorf("--keep-calls 36h --keep-recordings 0: %v, %v; want 36h and forever", cfg.KeepCalls, cfg.KeepRecordings)
	}
	if !strings.Contains(banner, "retention  calls 36h0m0s after they end, recordings 0 (forever)") {
		t.Errorf("banner:\n%s", banner)
	}

	t.Setenv("VOICEHOOK_KEEP_CALLS", "2d")
	t.Setenv("VOICEHOOK_KEEP_RECORDINGS", "90m")
	cfg, _ = serveOnce(t)
	if cfg.KeepCalls != 48*time.Hour || cfg.KeepRecordings != 90*time.Minute {
		t.Errorf("from the environment: %v, %v; want 48h and 1h30m", cfg.KeepCalls, cfg.KeepRecordings)
	}
	cfg, _ = serveOnce(t, "--keep-calls", "1d")
	if cfg.KeepCalls != 24*time.Hour {
		t.Errorf("the flag over the environment: %v; want 24h", cfg.KeepCalls)
	}
}

func TestServeKeepBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--keep-calls", "-1h"}, "", `invalid value "-1h" for flag -keep-calls: "-1h": want a duration`},
		{[]string{"--keep-recordings", "1.5d"}, "", `"1.5d": want whole days such as 7d`},
		{[]string{"--keep-calls", "week"}, "", `"week": want a duration`},
		{nil, "soon", `VOICEHOOK_KEEP_CALLS="soon": want a duration`},
	} {
		t.Setenv("VOICEHOOK_KEEP_CALLS", tc.env)
		var stdout, stderr syncBuffer
		code := serve(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, tc.args...), &stdout, &stderr, nil)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v %q: exit %d, stderr %q; want 2 and %q", tc.args, tc.env, code, stderr.String(), tc.want)
		}
	}
}
