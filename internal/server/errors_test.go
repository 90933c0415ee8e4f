package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/voicehook/voicehook/internal/server"
)

// TestErrorBodiesWithInvalidUTF8: an error that echoes invalid UTF-8 from
// the request is still a whole JSON body naming the problem, the bad bytes
// replaced by U+FFFD.
func TestErrorBodiesWithInvalidUTF8(t *testing.T) {
	srv := startServer(t)
	for _, c := range []struct {
		path   string
		status int
		field  string // the body's member that names the problem
		want   string
	}{
		{"/api/v2/accounts/9900000/calls/%ff%fe", 404, "description", "Call \uFFFD\uFFFD not found"},
		{"/api/v2/accounts/9900000/calls?pageSize=%ff", 400, "description", "pageSize must be within the range [1, 10000], but was \uFFFD"},
		{"/api/v2/nothing/%ff", 404, "path", "/api/v2/nothing/\uFFFD"},
		{"/console/api/calls/%ff%fe", 404, "description", "\uFFFD\uFFFD"},
		{"/console/api/%ff", 404, "description", "\uFFFD"},
	} {
		req, _ := http.NewRequest("GET", srv.URL()+c.path, nil)
		req.SetBasicAuth("dev", "dev")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var fields map[string]any
		if resp.StatusCode != c.status || !utf8.Valid(body) || json.Unmarshal(body, &fields) != nil {
			t.Errorf("GET %s: %d %q", c.path, resp.StatusCode, body)
			continue
		}
		if got, _ := fields[c.field].(string); !strings.Contains(got, c.want) {
			t.Errorf("GET %s: %s %q, want %q", c.path, c.field, got, c.want)
		}
	}
}

// TestDemoUnknownPath: a misspelt demo URL is a 404 naming the demo app's
// URLs, and a call answered by it fails visibly.
func TestDemoUnknownPath(t *testing.T) {
	srv := startServer(t)
	resp, err := http.Post(srv.URL()+"/demo/answr", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(body), "/demo/answer") || !strings.Contains(string(body), "/demo/answr") {
		t.Errorf("POST /demo/answr: %d %s", resp.StatusCode, body)
	}
	id, _ := createCall(t, srv, map[string]any{"from": "+15551112222", "to": "+15550000000", "applicationId": appID, "answerUrl": srv.URL() + "/demo/answr"})
	var got struct{ State, DisconnectCause, ErrorMessage string }
	for deadline := time.Now().Add(10 * time.Second); got.State != "disconnected" && time.Now().Before(deadline); {
		_, _, body := rest(t, srv, "GET", "/api/v2/accounts/9900000/calls/"+id, "", "")
		json.Unmarshal(body, &got)
		if got.State != "disconnected" {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got.DisconnectCause != "callback-error" {
		t.Errorf("a call answered by /demo/answr: %+v", got)
	}
}

// TestErrorsNameTheProblem: missing required fields are named, and a
// wrong account id in the path says whose the credentials are.
func TestErrorsNameTheProblem(t *testing.T) {
	srv := startServer(t)
	for _, c := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"POST", "/api/v2/accounts/9900000/calls", `{"from":"+15551112222","applicationId":"` + appID + `"}`, 400, "missing: to, answerUrl"},
		{"POST", "/api/v2/accounts/9900000/calls", `{"to":"","from":"+15551112222","answerUrl":"http://127.0.0.1:9/a"}`, 400, "missing: to, applicationId"},
		{"GET", "/api/v2/accounts/123/calls", "", 403, "Access is denied: the credentials are for account 9900000, not 123"},
		{"PUT", "/api/v2/accounts/9900000/calls/c-1/recording", `{}`, 400, "Missing required field: state"},
		{"POST", "/sim/v1/inbound", `{"sipHeaders":{}}`, 400, "Missing required field(s): from, to"},
		{"POST", "/sim/v1/calls/c-1/dtmf", `{}`, 400, "Missing required field: digits"},
		{"POST", "/sim/v1/calls/c-1/dtmf", `{"digit":"1"}`, 400, `Unknown field \"digit\"`},
		{"PUT", "/sim/v1/phones/+15553334444", `{"outcme":"busy"}`, 400, `Invalid script: unknown field \"outcme\": want one of outcome,`},
		{"PUT", "/sim/v1/phones/+15553334444", `{"ring":"soon"}`, 400, `Invalid script: field \"ring\": \"soon\" is not a duration`},
	} {
		status, _, body := rest(t, srv, c.method, c.path, "application/json", c.body)
		if status != c.status || !strings.Contains(string(body), c.want) {
			t.Errorf("%s %s %s: %d %s; want %d with %q", c.method, c.path, c.body, status, body, c.status, c.want)
		}
		for _, internal := range []string{"yaml", "sim.", "phoneYAML", "line 1"} {
			if strings.Contains(string(body), internal) {
				t.Errorf("%s %s %s: the error shows internals: %s", c.method, c.path, c.body, body)
			}
		}
	}
}

// TestSimUnknownCallAndMethod: beyond loopback a /sim/v1 request for a
// call no account has is 404 (it reaches no phone), and on any address a
// /sim/v1 path with a method it does not take is 405, as on /api/v2.
func TestSimUnknownCallAndMethod(t *testing.T) {
	_, base := startBeyondLoopback(t, server.Config{Accounts: twoAccounts(t)})
	for path, body := range map[string]string{"/hangup": "", "/dtmf": `{"digits":"1"}`, "/speech": `{"text":"hi"}`} {
		if status, _, got := send(t, alice, "POST", base+"/sim/v1/calls/c-nobody"+path, body); status != 404 || errorType(t, got) != "validation" {
			t.Errorf("POST /sim/v1/calls/c-nobody%s: %d %s, want 404", path, status, got)
		}
	}
	if status, _, got := send(t, alice, "GET", base+"/sim/v1/calls/c-nobody/hangup", ""); status != 405 {
		t.Errorf("GET …/hangup: %d %s, want 405", status, got)
	}
}
