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
