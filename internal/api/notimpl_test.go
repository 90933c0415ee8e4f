package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/spec"
)

// voiceServer is the server of the voice API's operations in Bandwidth's
// OpenAPI document.
const voiceServer = "https://voice.bandwidth.com/api/v2" // only compared: nothing is dialled

// TestVoiceOperationsAreTheSpecs: the operations voicehook knows of are
// exactly those Bandwidth's document serves from the voice API.
func TestVoiceOperationsAreTheSpecs(t *testing.T) {
	doc := spec.ForTest(t)
	var want []string
	for path, item := range doc.Paths.Map() {
		if !slices.ContainsFunc(item.Servers, func(s *openapi3.Server) bool { return s.URL == voiceServer }) {
			continue
		}
		for method, op := range item.Operations() {
			want = append(want, op.OperationID+" "+method+" "+path)
		}
	}
	var got []string
	for _, op := range voiceOperations {
		got = append(got, op.ID+" "+op.Method+" "+op.Path)
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("voiceOperations:\n%s\nthe document's voice operations:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestNotImplementedNamesTheOperation: an operation of the voice API that
// no route serves is a 501 naming it, once the account's credentials are
// checked; other methods of its path are 405.
func TestNotImplementedNamesTheOperation(t *testing.T) {
	// A handler of no routes but this operation's, and no engine.
	h := &Handler{cfg: Config{Accounts: config.Dev("9900000", "dev", "dev", "", "")}, mux: http.NewServeMux(),
		log: slog.New(slog.DiscardHandler), paths: map[string]bool{}, routed: map[string]bool{}}
	h.notImplemented([]operation{{"fakeOperation", "GET", "/accounts/{accountId}/fake/{fakeId}"}})
	h.unknownUnderAccount()
	for _, c := range []struct {
		name, method, path, user string
		status                   int
		kind                     string
	}{
		{"good credentials", "GET", "/api/v2/accounts/9900000/fake/f-1", "dev", 501, "not-implemented"},
		{"no credentials", "GET", "/api/v2/accounts/9900000/fake/f-1", "", 401, "authentication-error"},
		{"wrong password", "GET", "/api/v2/accounts/9900000/fake/f-1", "nobody", 401, "authentication-error"},
		{"another account", "GET", "/api/v2/accounts/1234567/fake/f-1", "dev", 403, "authorization-error"},
		{"another method", "DELETE", "/api/v2/accounts/9900000/fake/f-1", "dev", 405, "validation"},
		{"another method, no credentials", "DELETE", "/api/v2/accounts/9900000/fake/f-1", "", 401, "authentication-error"},
	} {
		req := httptest.NewRequest(c.method, c.path, nil)
		if c.user != "" {
			req.SetBasicAuth(c.user, "dev")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != c.status || body["type"] != c.kind {
			t.Errorf("%s: %s %s: %d %s, want %d %s", c.name, c.method, c.path, rec.Code, rec.Body, c.status, c.kind)
			continue
		}
		if c.status == http.StatusNotImplemented {
			want := map[string]any{"type": "not-implemented", "id": "",
				"description": "voicehook does not implement fakeOperation (GET /accounts/{accountId}/fake/{fakeId})"}
			if len(body) != 3 || body["description"] != want["description"] || body["id"] != "" {
				t.Errorf("501 body %s, want %v", rec.Body, want)
			}
		}
	}
}
