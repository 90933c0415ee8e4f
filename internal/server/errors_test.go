package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
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
