package callback_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps callback/ importable on its own: it may use the
// standard library and its two declared dependencies, nothing of voicehook.
func TestImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; skipped with -short")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := []string{
		"github.com/voicehook/voicehook/callback",
		"github.com/go-json-experiment/json",
		"github.com/google/uuid",
	}
	for _, dep := range strings.Fields(string(out)) {
		ok := false
		for _, a := range allowed {
			if dep == a || strings.HasPrefix(dep, a+"/") {
				ok = true
			}
		}
		if !ok {
			t.Errorf("callback imports %s; it may import only the standard library, %v", dep, allowed[1:])
		}
	}
}
