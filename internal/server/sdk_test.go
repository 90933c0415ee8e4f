package server_test

import (
	"bufio"
	"bytes"
	stdjson "encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// sdkDir is test/sdk: the official Bandwidth Node SDK, pinned.
func sdkDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("..", "..", "test", "sdk"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// requireSDK makes sure node and the SDK are installed, installing the SDK
// with npm ci when npm is there. Without node or npm the test skips, except
// in CI, where it fails.
func requireSDK(t *testing.T) string {
	dir := sdkDir(t)
	missing := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the SDK-driven suite must run in CI: %s", why)
		}
		t.Skipf("skipping the SDK-driven suite: %s (install Node.js 20+ and npm)", why)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "bandwidth-sdk")); err != nil {
		if _, err := exec.LookPath("npm"); err != nil {
			missing("npm is not on PATH to install test/sdk")
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			missing("npm ci in test/sdk failed: " + err.Error() + "\n" + string(out))
		}
	}
	return dir
}

// TestOfficialNodeSDK drives voicehook with Bandwidth's own Node SDK:
// createCall, getCallState, updateCall (redirect), updateCallBxml with BXML
// built by the SDK, listCalls, and its error handling.
func TestOfficialNodeSDK(t *testing.T) {
	dir := requireSDK(t)
	srv := startServer(t)
	app := newApp(t, map[string]string{
		"/answer":   `<Response><Pause duration="30"/></Response>`,
		"/redirect": `<Response><Pause duration="30"/></Response>`,
	})
	cmd := exec.Command("node", "drive.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "VH_BASE="+srv.URL()+"/api/v2", "VH_APP="+app.URL, "VH_ACCOUNT=9900000")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node drive.mjs: %v\n%s\n%s", err, out, stderr.String())
	}
	steps := map[string]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var step map[string]any
		if err := stdjson.Unmarshal(sc.Bytes(), &step); err != nil {
			t.Fatalf("bad line from drive.mjs: %s", sc.Text())
		}
		steps[step["step"].(string)] = step
	}
	status := func(name string) float64 {
		s, ok := steps[name]
		if !ok {
			t.Fatalf("drive.mjs printed no %q step:\n%s", name, out)
		}
		return s["status"].(float64)
	}
	if status("create") != 201 {
		t.Errorf("createCall: %v", steps["create"])
	}
	data := steps["create"]["data"].(map[string]any)
	callID := data["callId"].(string)
	if data["tag"] != "sdk-tag" || data["callTimeout"] != 10.0 || data["priority"] != 2.0 {
		t.Errorf("createCall response: %v", data)
	}
	if loc := steps["create"]["location"]; loc != srv.URL()+"/api/v2/accounts/9900000/calls/"+callID {
		t.Errorf("Location %v", loc)
	}
	if status("get") != 200 || steps["get"]["data"].(map[string]any)["state"] != "answered" {
		t.Errorf("getCallState: %v", steps["get"])
	}
	if status("redirect") != 200 || status("bxml") != 204 || status("list") != 200 {
		t.Errorf("updateCall %v, updateCallBxml %v, listCalls %v", steps["redirect"], steps["bxml"], steps["list"])
	}
	if !strings.Contains(steps["bxml"]["sent"].(string), `<break time="500ms"/>`) {
		t.Errorf("the SDK's BXML: %v", steps["bxml"]["sent"])
	}
	for name, want := range map[string]float64{"invalid": 400, "notfound": 404, "unauthorized": 401, "ended": 409} {
		if got := status(name); got != want {
			t.Errorf("%s: status %v, want %v (%v)", name, got, want, steps[name]["body"])
		}
	}
	d := app.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.CallID != callID || d.Cause != callback.CauseHangup {
		t.Errorf("disconnect %+v", d)
	}
	if got := app.types(); got != "answer,redirect,disconnect" {
		t.Errorf("webhooks %s", got)
	}
	r := app.waitFor(t, callback.EventRedirect, time.Second).event.(*callback.Redirect)
	if r.Tag == nil || *r.Tag != "moved" {
		t.Errorf("the redirect's tag %v", r.Tag)
	}
	checkHooks(t, app.got())
}
