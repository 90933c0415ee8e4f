package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/voicehook/voicehook/internal/spec"
)

// TestEveryVoiceOperation walks every operation of the voice API in
// Bandwidth's document: with the account's credentials each is served (a
// well-formed request may still be refused: it names no call) or answers
// 501 naming its operationId, never an unknown path's 404 or a 405; and
// without them, or on another account, it is 401 or 403 first.
func TestEveryVoiceOperation(t *testing.T) {
	doc := spec.ForTest(t)
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, nil)
		n := 0
		for path, item := range doc.Paths.Map() {
			if !slices.ContainsFunc(item.Servers, func(s *openapi3.Server) bool {
				return s.URL == "https://voice.bandwidth.com/api/v2" // only compared: nothing is dialled
			}) {
				continue
			}
			for method, op := range item.Operations() {
				n++
				send := func(account, user string) (int, map[string]any) {
					url := "/api/v2" + strings.NewReplacer("{accountId}", account, "{callId}", "c-nobody",
						"{conferenceId}", "conf-nobody", "{memberId}", "c-nobody", "{recordingId}", "r-nobody",
						"{transcriptionId}", "t-nobody").Replace(path)
					body, contentType := "", ""
					if method == "POST" || method == "PUT" {
						body, contentType = "{}", "application/json"
						if strings.HasSuffix(path, "/bxml") {
							body, contentType = "<Bxml></Bxml>", "application/xml"
						}
					}
					req := httptest.NewRequest(method, url, strings.NewReader(body))
					if contentType != "" {
						req.Header.Set("Content-Type", contentType)
					}
					if user != "" {
						req.SetBasicAuth(user, "dev")
					}
					rec := httptest.NewRecorder()
					e.handler.ServeHTTP(rec, req)
					var fields map[string]any
					_ = json.Unmarshal(rec.Body.Bytes(), &fields)
					return rec.Code, fields
				}
				name := op.OperationID + " (" + method + " " + path + ")"
				switch status, body := send(account, "dev"); {
				case status == http.StatusNotImplemented:
					want := "voicehook does not implement " + op.OperationID + " (" + method + " " + path + ")"
					if body["type"] != "not-implemented" || body["description"] != want || body["id"] != "" {
						t.Errorf("%s: 501 %v, want the description %q", name, body, want)
					}
				case status == http.StatusMethodNotAllowed, status == http.StatusNotFound && body["path"] != nil:
					t.Errorf("%s: %d %v: no route, and no 501 naming it", name, status, body)
				}
				if status, body := send(account, ""); status != http.StatusUnauthorized || body["type"] != "authentication-error" {
					t.Errorf("%s without credentials: %d %v, want 401", name, status, body)
				}
				if status, body := send("1234567", "dev"); status != http.StatusForbidden || body["type"] != "authorization-error" {
					t.Errorf("%s on another account: %d %v, want 403", name, status, body)
				}
			}
		}
		if n < 28 {
			t.Errorf("the document has %d voice operations; want at least the 28 of Bandwidth's voice API", n)
		}
	})
}
