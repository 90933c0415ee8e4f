// Package spec finds and loads the official Bandwidth OpenAPI document,
// which tests use as an oracle: whatever voicehook sends or answers must
// validate against the matching schema.
//
// The document is not part of this repository: it is bandwidth.yml at the
// root of the npm package bandwidth-sdk, which test/sdk pins for the
// SDK-driven suite. Tests read it from the path in VOICEHOOK_BANDWIDTH_SPEC,
// else from ../shared/spec/bandwidth.yml beside the repository, else from
// test/sdk/node_modules/bandwidth-sdk/bandwidth.yml, installing test/sdk
// with npm ci first if need be. Where none of these works (no npm, no
// network) a test skips and says why, except under CI=true, where it
// fails: in CI the oracle never skips.
//
// It uses kin-openapi, a maintained OpenAPI 3 loader and validator, rather
// than a hand-written one.
package spec

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/voicehook/voicehook/internal/npm"
)

// EnvVar names the environment variable that may hold the document's path.
const EnvVar = "VOICEHOOK_BANDWIDTH_SPEC"

// Path returns where the document is, or an error saying how to get it.
func Path() (string, error) {
	if p := os.Getenv(EnvVar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvVar, p, err)
		}
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	return pathIn(root)
}

// pathIn finds the document for the repository at root.
func pathIn(root string) (string, error) {
	if p := filepath.Join(root, "..", "shared", "spec", "bandwidth.yml"); exists(p) {
		return p, nil
	}
	sdk := filepath.Join(root, "test", "sdk")
	p := filepath.Join(sdk, "node_modules", "bandwidth-sdk", "bandwidth.yml")
	if err := npm.Install(sdk, "bandwidth-sdk"); err != nil {
		return "", fmt.Errorf("no Bandwidth OpenAPI document: %w (or set %s to a copy of bandwidth.yml, "+
			"found at the root of the npm package bandwidth-sdk)", err, EnvVar)
	}
	if !exists(p) {
		return "", fmt.Errorf("no Bandwidth OpenAPI document at %s: the installed bandwidth-sdk lacks it", p)
	}
	return p, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// repoRoot walks up from the working directory to the directory of go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

var (
	loadOnce sync.Once
	loaded   *openapi3.T
	loadErr  error
)

// Load returns the parsed document, loading it once per test binary.
func Load() (*openapi3.T, error) {
	loadOnce.Do(func() {
		p, err := Path()
		if err != nil {
			loadErr = err
			return
		}
		loader := openapi3.NewLoader()
		loaded, loadErr = loader.LoadFromFile(p)
		if loadErr != nil {
			loadErr = fmt.Errorf("load %s: %w", p, loadErr)
		}
	})
	return loaded, loadErr
}

// ForTest returns the document, or skips t saying why — except under
// CI=true, where a missing document fails t.
func ForTest(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := Load()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the conformance oracle is required in CI: %v", err)
		}
		t.Skipf("skipping conformance test: %v", err)
	}
	return doc
}

// Schema returns the named schema of components/schemas, failing t if the
// document lacks it.
func Schema(t testing.TB, doc *openapi3.T, name string) *openapi3.Schema {
	t.Helper()
	ref, ok := doc.Components.Schemas[name]
	if !ok || ref.Value == nil {
		t.Fatalf("the OpenAPI document has no schema %q", name)
	}
	return ref.Value
}

// Validate checks a decoded JSON value (from encoding/json into any)
// against schema, with format checks on: date-time and uri.
func Validate(schema *openapi3.Schema, v any) error {
	return schema.VisitJSON(v, openapi3.EnableFormatValidation())
}

func init() {
	// kin-openapi checks date-time by itself; uri needs a checker. A uri
	// here is absolute: it has a scheme.
	openapi3.DefineStringFormatValidator("uri", openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil {
			return err
		}
		if u.Scheme == "" {
			return fmt.Errorf("%q has no scheme", s)
		}
		return nil
	}))
}
