package main

import (
	"context"
	"strings"
	"testing"
)

func TestServeLimitsFlag(t *testing.T) {
	var stdout, stderr syncBuffer
	code := serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--limits", "production"}, &stdout, &stderr, nil)
	if code != 2 || !strings.Contains(stderr.String(), `--limits "production": want off or bandwidth`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}

	// VOICEHOOK_LIMITS=bandwidth gives the dev account Bandwidth's limits;
	// the banner says so.
	t.Setenv("VOICEHOOK_LIMITS", "bandwidth")
	_, banner := serveOnce(t)
	if want := "limits     account 9900000: 5 calls/s (queue 1500), 100 live calls"; !strings.Contains(banner, want) {
		t.Errorf("banner without %q:\n%s", want, banner)
	}
}
