package server_test

import (
	"bufio"
	"bytes"
	stdjson "encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/voicehook/voicehook/internal/npm"
)

// requireNodeSuite makes sure node is on PATH and test/<sub> has its npm
// packages (module is one of them), installing them with npm ci; check,
// when set, says what else is missing ("" for nothing). Without them the
// suite skips, except in CI, where it fails. It returns test/<sub>.
func requireNodeSuite(t *testing.T, sub, module, suite string, check func() string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", sub))
	if err != nil {
		t.Fatal(err)
	}
	missing := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s must run in CI: %s", suite, why)
		}
		t.Skipf("skipping %s: %s (install Node.js 20+ and npm)", suite, why)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not on PATH")
	}
	if check != nil {
		if why := check(); why != "" {
			missing(why)
		}
	}
	if err := npm.Install(dir, module); err != nil {
		missing(err.Error())
	}
	return dir
}

// runNode runs a script with the environment added and returns the steps
// it printed, one JSON object a line with a "step" name, by name.
func runNode(t *testing.T, dir, script string, env ...string) map[string]map[string]any {
	t.Helper()
	cmd := exec.Command("node", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s\n%s", script, err, out, stderr.String())
	}
	steps := map[string]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var step map[string]any
		if err := stdjson.Unmarshal(sc.Bytes(), &step); err != nil {
			t.Fatalf("bad line from %s: %s", script, sc.Text())
		}
		name, _ := step["step"].(string)
		steps[name] = step
	}
	return steps
}
