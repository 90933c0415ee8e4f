package server_test

import (
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// TestOfficialNodeSDKLeniencies sends, through Bandwidth's Node SDK, what
// the hosted API accepts beyond its reference pages (test/sdk/lenient.mjs):
// createCall echoes every method, URL or not; PUT …/bxml of a call or a
// conference takes a <Response> root; diversionReason without
// diversionTreatment="stack" is accepted and does nothing; a hang-up shortly
// after a REST-sent document ran out or failed answers 200.
func TestOfficialNodeSDKLeniencies(t *testing.T) {
	dir := requireSDK(t)
	srv := startServer(t)
	app := newApp(t, map[string]string{
		"/answer":      `<Response><Pause duration="30"/></Response>`,
		"/conf-answer": `<Response><Conference>lenient-room</Conference></Response>`,
	})
	steps := runSDK(t, dir, "lenient.mjs", srv, app)
	step := func(name string) map[string]any {
		s, ok := steps[name]
		if !ok {
			t.Fatalf("lenient.mjs printed no %q step: %v", name, steps)
		}
		return s
	}

	bare := step("create-bare")["data"].(map[string]any)
	for _, f := range []string{"answerMethod", "answerFallbackMethod", "disconnectMethod"} {
		if bare[f] != "POST" {
			t.Errorf("createCall with no methods and no fallback or disconnect URL: %s %v, want POST", f, bare[f])
		}
	}
	given := step("create-given")["data"].(map[string]any)
	if given["answerFallbackMethod"] != "GET" || given["disconnectMethod"] != "GET" || given["answerMethod"] != "POST" {
		t.Errorf("createCall with GET methods and no URLs for them: %v", given)
	}
	if _, ok := given["answerFallbackUrl"]; ok {
		t.Errorf("answerFallbackUrl echoed though none was given: %v", given)
	}

	for name, want := range map[string]float64{
		"response-root": 204, "forward-reason": 204, "transfer-reason": 204,
		"completed-response": 200, "completed-forward": 200, "completed-transfer": 200,
		"redirect-ended": 409, "conference-response-root": 204,
	} {
		if s := step(name); s["status"] != want {
			t.Errorf("%s: %v, want status %v", name, s, want)
		}
	}
	// The hang-ups met calls that had ended on their own, and changed
	// nothing: one disconnect each, with the cause the document gave. A
	// <Forward> is for unanswered inbound calls only: on this answered call
	// the document fails, as the SDK's own test's does.
	ids := step("calls")
	want := map[string]callback.Cause{ids["response"].(string): callback.CauseHangup,
		ids["forward"].(string): callback.CauseApplicationError, ids["transfer"].(string): callback.CauseHangup}
	for _, name := range []string{"completed-response", "completed-forward", "completed-transfer"} {
		if s := step(name)["state"]; s != "disconnected" {
			t.Errorf("%s: the call was %v when the hang-up came, want disconnected (the leniency is for ended calls)", name, s)
		}
	}
	got := map[string][]callback.Cause{}
	deadline := time.Now().Add(5 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		got = map[string][]callback.Cause{}
		for _, h := range app.got() {
			if d, ok := h.event.(*callback.Disconnect); ok && want[d.CallID] != "" {
				got[d.CallID] = append(got[d.CallID], d.Cause)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	for id, cause := range want {
		if len(got[id]) != 1 || got[id][0] != cause {
			t.Errorf("call %s: disconnects %v, want one with %s", id, got[id], cause)
		}
	}
	checkHooks(t, app.got())
}
