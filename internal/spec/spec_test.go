package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPathFromEnv(t *testing.T) {
	t.Setenv(EnvVar, filepath.Join(t.TempDir(), "missing.yml"))
	if _, err := Path(); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Errorf("Path() with a missing file = %v, want an error naming %s", err, EnvVar)
	}
}

func TestValidateCatchesWrongTypesAndFormats(t *testing.T) {
	doc := ForTest(t)
	s := Schema(t, doc, "disconnectCallback")
	good := map[string]any{"eventType": "disconnect", "eventTime": "2019-06-20T15:55:55.533Z",
		"callUrl": "https://voice.bandwidth.com/x", "direction": "outbound", "errorMessage": nil}
	if err := Validate(s, good); err != nil {
		t.Errorf("a valid disconnect: %v", err)
	}
	for name, bad := range map[string]map[string]any{
		"eventTime":  {"eventTime": "yesterday"},
		"callUrl":    {"callUrl": "not a uri"},
		"direction":  {"direction": "sideways"},
		"eventType":  {"eventType": 7},
		"tag (null)": {"tag": 7},
	} {
		if err := Validate(s, bad); err == nil {
			t.Errorf("%s: %v validated", name, bad)
		}
	}
}

// TestPathFindsTheNPMPackage: without ../shared beside the repository, the
// document is the one in test/sdk's installed bandwidth-sdk.
func TestPathFindsTheNPMPackage(t *testing.T) {
	root := filepath.Join(t.TempDir(), "repo")
	pkg := filepath.Join(root, "test", "sdk", "node_modules", "bandwidth-sdk")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"package.json", "bandwidth.yml"} {
		if err := os.WriteFile(filepath.Join(pkg, f), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := pathIn(root)
	if want := filepath.Join(pkg, "bandwidth.yml"); err != nil || got != want {
		t.Errorf("pathIn = %q, %v; want %q", got, err, want)
	}
}
