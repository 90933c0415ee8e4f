package server_test

import (
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// TestOfficialNodeSDKOAuth: Bandwidth's Node SDK configured with
// clientId/clientSecret, its token URL pointed at voicehook, gets one
// token and places, reads, lists and hangs up a call with it, sending
// bearer tokens only; on another account it gets 403, and with a wrong
// secret the token endpoint's 401.
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
	// One token for the first client's four requests and the other
	// account's, and one refused for the second client.
	seen := step("seen")
	if seen["tokenRequests"] != 2.0 {
		t.Errorf("token requests %v, want 2: the SDK keeps its token", seen["tokenRequests"])
	}
	schemes := seen["schemes"].([]any)
	if len(schemes) != 5 {
		t.Errorf("the SDK sent %d REST requests, want 5: %v", len(schemes), schemes)
	}
	for _, scheme := range schemes {
		if scheme != "Bearer" {
			t.Errorf("the SDK authenticated a request by %v, want Bearer only: %v", scheme, schemes)
			break
		}
	}
	d := app.waitFor(t, callback.EventDisconnect, 5*time.Second).event.(*callback.Disconnect)
	if d.CallID != callID || d.Cause != callback.CauseHangup {
		t.Errorf("disconnect %+v", d)
	}
	checkHooks(t, app.got())
}
