package server_test

import (
	"os"
	"path/filepath"
	"testing"
)

// requireBrowser makes sure node, Chromium and test/console's
// playwright-core are there.
func requireBrowser(t *testing.T) (dir, chromium string) {
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	dir = requireNodeSuite(t, "console", "playwright-core", "the browser tests", func() string {
		if _, err := os.Stat(chromium); err != nil {
			return chromium + " is not there (apt-get install chromium)"
		}
		return ""
	})
	return dir, chromium
}

// TestConsoleInBrowser drives the console in headless Chromium: place a
// call from the page, watch it appear and end live, open it, find the
// answer and disconnect webhooks on the ladder, open the answer's body,
// replay it, and check a narrow window. Screenshots of the calls list and
// the call page go to test/console/artifacts (not committed).
func TestConsoleInBrowser(t *testing.T) {
	dir, chromium := requireBrowser(t)
	srv := startServer(t)
	artifacts := filepath.Join(dir, "artifacts")
	steps := runNode(t, dir, "console.mjs", "VH_URL="+srv.URL(), "VH_ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
	if s := steps["live"]; s == nil || s["state"] != "disconnected" || s["cause"] != "hangup" {
		t.Errorf("live step %v", s)
	}
	if s := steps["ladder"]; s == nil || !hasAll(s["webhooks"], "answer", "disconnect") {
		t.Errorf("ladder step %v", s)
	}
	if s := steps["body"]; s == nil || s["eventType"] != "answer" {
		t.Errorf("body step %v", s)
	}
	if s := steps["replay"]; s == nil || s["status"] != float64(200) {
		t.Errorf("replay step %v", s)
	}
	if s := steps["narrow"]; s == nil || s["ok"] != true {
		t.Errorf("narrow step %v", s)
	}
	for _, shot := range []string{"calls-list.png", "call-page.png"} {
		if fi, err := os.Stat(filepath.Join(artifacts, shot)); err != nil || fi.Size() < 1000 {
			t.Errorf("screenshot %s: %v", shot, err)
		}
	}
}

func hasAll(v any, want ...string) bool {
	list, _ := v.([]any)
	have := map[string]bool{}
	for _, x := range list {
		if s, ok := x.(string); ok {
			have[s] = true
		}
	}
	for _, w := range want {
		if !have[w] {
			return false
		}
	}
	return true
}
