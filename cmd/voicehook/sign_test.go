package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/internal/server"
)

// Secrets of the tests: base64 of 32 bytes.
const (
	secretA = "whsec_dm9pY2Vob29rJ3Mgb2xkIHRlc3Qgc2VjcmV0LCAzMkI="
	secretB = "whsec_dm9pY2Vob29rJ3MgbmV3IHRlc3Qgc2VjcmV0LCAzMkI="
)

// TestServeWebhookSecret: VOICEHOOK_WEBHOOK_SECRET signs the dev
// application with two secrets, and the banner says so.
func TestServeWebhookSecret(t *testing.T) {
	t.Setenv("VOICEHOOK_WEBHOOK_SECRET", secretA+", "+secretB)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	code := serve(ctx, []string{"--addr", "127.0.0.1:0", "--db", ":memory:"}, &stdout, &stderr, func(*server.Server) { cancel() })
	if code != 0 || !strings.Contains(stdout.String(), "webhooks signed (2 secrets)") {
		t.Errorf("exit %d; the banner does not say the dev application signs:\n%s\n%s", code, stdout.String(), stderr.String())
	}
}

// TestServeBadWebhookSecret: a malformed secret stops serve with an error
// naming the application and the flag, never the secret; with --config the
// flag is refused.
func TestServeBadWebhookSecret(t *testing.T) {
	var stdout, stderr syncBuffer
	code := serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--webhook-secret", "whsec_hunter2hunter2"},
		&stdout, &stderr, nil)
	msg := stderr.String()
	if code != 1 || !strings.Contains(msg, "webhook secret of the dev application (--webhook-secret, VOICEHOOK_WEBHOOK_SECRET): secret 1") ||
		strings.Contains(msg, "hunter2") {
		t.Errorf("exit %d, stderr %q", code, msg)
	}

	cfg := filepath.Join(t.TempDir(), "accounts.yaml")
	if err := os.WriteFile(cfg, []byte("accounts:\n  - id: \"1\"\n    username: u\n    password: p\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr = syncBuffer{}
	code = serve(context.Background(), []string{"--addr", "127.0.0.1:0", "--db", ":memory:", "--config", cfg, "--webhook-secret", secretA},
		&stdout, &stderr, nil)
	if code != 2 || !strings.Contains(stderr.String(), "--webhook-secret belongs to the dev account") {
		t.Errorf("with --config: exit %d, stderr %q", code, stderr.String())
	}
}
