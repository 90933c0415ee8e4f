package layout

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/voicehook/voicehook"

// deps lists the non-standard packages pkg depends on, itself included.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}

// TestPublicWirePackages: callback/ and bxml/ are the wire formats that Go
// apps import on their own. They import nothing of voicehook but each
// other's direction (bxml may use callback), and only the dependencies
// listed here.
func TestPublicWirePackages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped with -short")
	}
	rules := map[string][]string{
		module + "/callback": {"github.com/go-json-experiment/json", "github.com/google/uuid"},
		module + "/bxml":     {module + "/callback", "github.com/go-json-experiment/json", "github.com/google/uuid"},
	}
	for pkg, allowed := range rules {
		for _, dep := range deps(t, pkg) {
			if dep == pkg {
				continue
			}
			ok := false
			for _, a := range allowed {
				if dep == a || strings.HasPrefix(dep, a+"/") {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s; allowed beyond the standard library: %v", pkg, dep, allowed)
			}
		}
	}
}

// TestEngineIsTheDomain: internal/engine imports no HTTP, no SQL, no
// Prometheus and no adapter; the world reaches it through the interfaces it declares.
func TestEngineIsTheDomain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped with -short")
	}
	out, err := exec.Command("go", "list", "-deps", module+"/internal/engine").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// Standard packages match exactly (google/uuid brings in the
	// interface-only database/sql/driver, which is no SQL); voicehook's
	// adapters match with everything below them.
	stdlib := []string{"net/http", "database/sql"}
	adapters := []string{module + "/internal/api", module + "/internal/delivery", module + "/internal/store",
		module + "/internal/phone", module + "/internal/server", module + "/internal/metrics", "github.com/prometheus",
		// No SIP, RTP, codec or speech code either: the media port
		// (engine.Line) is all the engine knows of real audio.
		module + "/internal/pcm", module + "/internal/tts", "github.com/emiago", "github.com/pion", "github.com/zaf",
		"github.com/hajimehoshi"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range stdlib {
			if dep == f {
				t.Errorf("internal/engine depends on %s", dep)
			}
		}
		for _, f := range adapters {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("internal/engine depends on %s", dep)
			}
		}
	}
}

// TestSIPStaysBehindItsAdapter: the SIP stack moves fast (diago had ten
// minor versions in three months), so only internal/phone/sip and the
// packages below it import it; swapping it touches one directory.
func TestSIPStaysBehindItsAdapter(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped with -short")
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], module+"/internal/phone/sip") {
			continue
		}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, "github.com/emiago/") {
				t.Errorf("%s imports %s: only internal/phone/sip may", fields[0], imp)
			}
		}
	}
}

// TestExamplesUsePublicPackagesOnly: the apps under examples/ build on what
// a user outside this module can import.
func TestExamplesUsePublicPackagesOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped with -short")
	}
	pkgs := deps(t, module+"/examples/...")
	if len(pkgs) == 0 {
		t.Fatal("go list found no examples")
	}
	for _, dep := range pkgs {
		if strings.HasPrefix(dep, module+"/internal/") {
			t.Errorf("an example depends on %s", dep)
		}
	}
}
