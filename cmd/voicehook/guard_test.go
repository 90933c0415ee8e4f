package main

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/internal/server"
)

// serveOnce runs serve with args until it is ready, and returns the
// configuration in force and the banner.
func serveOnce(t *testing.T, args ...string) (server.Config, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	var cfg server.Config
	code := serve(ctx, append([]string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, args...), &stdout, &stderr,
		func(s *server.Server) { cfg = s.Config(); cancel() })
	if code != 0 {
		t.Fatalf("serve %v: exit %d: %s", args, code, stderr.String())
	}
	return cfg, stdout.String()
}

func TestServeWebhookGuardFlags(t *testing.T) {
	cfg, banner := serveOnce(t)
	if cfg.WebhookGuard != server.GuardOff || !strings.Contains(banner, "guard      off") {
		t.Errorf("on loopback by default: guard %q, banner:\n%s", cfg.WebhookGuard, banner)
	}

	// Allowed prefixes are only parsed and printed here: nothing is dialled.
	cfg, banner = serveOnce(t, "--webhook-guard", "on", "--webhook-allow", "127.0.0.1/32, fd00::/8")
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("fd00::/8")}
	if cfg.WebhookGuard != server.GuardOn || !slices.Equal(cfg.WebhookAllow, want) {
		t.Errorf("guard %q allow %v, want on and %v", cfg.WebhookGuard, cfg.WebhookAllow, want)
	}
	if !strings.Contains(banner, "guard      on: no webhooks to loopback, private or link-local addresses; allowed: 127.0.0.1/32, fd00::/8") {
		t.Errorf("banner:\n%s", banner)
	}

	t.Setenv("VOICEHOOK_WEBHOOK_GUARD", "on")
	t.Setenv("VOICEHOOK_WEBHOOK_ALLOW", "10.1.0.0/16") // parsed only, never dialled
	cfg, _ = serveOnce(t)
	if cfg.WebhookGuard != server.GuardOn || !slices.Equal(cfg.WebhookAllow, []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}) {
		t.Errorf("from the environment: guard %q allow %v", cfg.WebhookGuard, cfg.WebhookAllow)
	}
}

func TestServeWebhookGuardBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		// Refused at parsing: nothing is dialled or resolved.
		{[]string{"--webhook-allow", "10.0.0.0/8,10.0.0.0/33"}, `voicehook serve: --webhook-allow: "10.0.0.0/33" is not a CIDR prefix`},
		{[]string{"--webhook-allow", "app.internal"}, `"app.internal" is not a CIDR prefix`},
		{[]string{"--webhook-guard", "yes"}, `voicehook serve: --webhook-guard "yes": want auto, on or off`},
	} {
		var stdout, stderr syncBuffer
		code := serve(context.Background(), append([]string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, tc.args...), &stdout, &stderr, nil)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}
