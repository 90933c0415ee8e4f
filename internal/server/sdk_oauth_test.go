package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// TestOfficialNodeSDKOAuth: Bandwidth's Node SDK configured with
// clientId/clientSecret, its token URL pointed at voicehook, gets one
// token and places, reads, lists and hangs up a call with it, sending
// bearer tokens only; on another account it gets 403, and with a wrong
// secret the token endpoint's 401. On a path voicehook does not serve, bad
// credentials are 401 and another account 403 before the path is a 404.
func TestOfficialNodeSDKOAuth(t *testing.T) {
	dir := requireSDK(t)
	srv := startServer(t)
	app := newApp(t, map[string]string{"/answer": `<Response><Pause duration="30"/></Response>`})
	steps := runSDK(t, dir, "oauth.mjs", srv, app)
	step := func(name string) map[string]any {
		s, ok := steps[name]
		if !ok {
			t.Fatalf("oauth.mjs printed no %q step: %v", name, steps)
		}
		return s
	}
	created := step("create")
	callID, _ := created["data"].(map[string]any)["callId"].(string)
	if created["status"] != 201.0 || callID == "" {
		t.Fatalf("createCall: %v", created)
	}
	if s := step("get"); s["status"] != 200.0 || s["data"].(map[string]any)["state"] != "answered" {
		t.Errorf("getCallState: %v", s)
	}
	if s := step("list"); s["status"] != 200.0 || len(s["ids"].([]any)) != 1 || s["ids"].([]any)[0] != callID {
		t.Errorf("listCalls: %v", s)
	}
	if s := step("hangup"); s["status"] != 200.0 {
		t.Errorf("updateCall state completed: %v", s)
	}
	if s := step("otheraccount"); s["status"] != 403.0 || s["body"].(map[string]any)["type"] != "authorization-error" {
		t.Errorf("another account's call: %v, want 403", s)
	}
	if s := step("wrongsecret"); s["status"] != 401.0 || s["body"].(map[string]any)["error"] != "invalid_client" ||
		s["url"] != srv.URL()+"/api/v1/oauth2/token" {
		t.Errorf("a wrong client secret: %v, want voicehook's token endpoint's 401 invalid_client", s)
	}
	// Credentials before routing, for a path voicehook does not serve.
	for name, want := range map[string]float64{"endpoints": 404, "endpointsbad": 401, "endpointsother": 403, "statisticsbad": 401} {
		if s := step(name); s["status"] != want {
			t.Errorf("%s: %v, want status %v", name, s, want)
		}
	}
	// A token for the first client's five requests, one refused for the
	// second, and one for the third, which lists endpoints twice.
	seen := step("seen")
	if seen["tokenRequests"] != 3.0 {
		t.Errorf("token requests %v, want 3: the SDK keeps its token", seen["tokenRequests"])
	}
	var schemes []string
	for _, s := range seen["schemes"].([]any) {
		schemes = append(schemes, s.(string))
	}
	want := "Bearer,Bearer,Bearer,Bearer,Bearer,Bearer,Basic,Bearer,Basic"
	if got := strings.Join(schemes, ","); got != want {
		t.Errorf("the SDK authenticated its REST requests by %s, want %s", got, want)
	}
	d := app.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.CallID != callID || d.Cause != callback.CauseHangup {
		t.Errorf("disconnect %+v", d)
	}
	checkHooks(t, app.got())
}
