package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/voicehook/voicehook/internal/redact"
)

// FuzzWriteError: whatever bytes an error's message holds, the response
// has the status given and a whole JSON body with the three fields of a
// Bandwidth error, the message's valid text kept and the rest replaced by
// U+FFFD. The seed corpus is in testdata/fuzz/FuzzWriteError.
func FuzzWriteError(f *testing.F) {
	f.Fuzz(func(t *testing.T, status int, kind, msg string) {
		status = 400 + (status%200+200)%200 // a 4xx or 5xx
		rec := httptest.NewRecorder()
		writeError(rec, &apiError{status, kind, msg})
		if rec.Code != status {
			t.Errorf("status %d, want %d", rec.Code, status)
		}
		body := rec.Body.Bytes()
		if !utf8.Valid(body) || !json.Valid(body) {
			t.Fatalf("not valid JSON: %q", body)
		}
		var fields map[string]any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&fields); err != nil {
			t.Fatalf("%v: %q", err, body)
		}
		// The description is the message with URL passwords masked.
		if len(fields) != 3 || !sameText(fields["type"], kind) ||
			!sameText(fields["description"], redact.Text(msg)) {
			t.Errorf("body %q for type %q, message %q", body, kind, msg)
		}
		if _, ok := fields["id"].(string); !ok {
			t.Errorf("id is not a string: %q", body)
		}
	})
}

// sameText reports whether got is s with every byte of invalid UTF-8
// replaced by U+FFFD.
func sameText(got any, s string) bool {
	g, ok := got.(string)
	if !ok {
		return false
	}
	var want strings.Builder
	for _, r := range s { // an invalid byte ranges as U+FFFD
		want.WriteRune(r)
	}
	return g == want.String()
}

// TestWriteJSONUnencodable: a value that cannot be encoded is a 500 with
// an error body, never a broken one.
func TestWriteJSONUnencodable(t *testing.T) {
	rec := httptest.NewRecorder()
	writeJSON(rec, 200, map[string]any{"f": func() {}})
	if rec.Code != 500 || !json.Valid(rec.Body.Bytes()) || !strings.Contains(rec.Body.String(), `"type":"internal-error"`) {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}
