package callback_test

import (
	"bytes"
	stdjson "encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/callback"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the current output")

// goldenInputs are the JSON examples of Bandwidth's webhook pages, one file
// per example, named after the page and the example's heading.
func goldenInputs(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/golden/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs under testdata/golden: %v", err)
	}
	return files
}

// forEachExample runs f as a subtest for every documented example, named
// after its file.
func forEachExample(t *testing.T, f func(t *testing.T, name, path string, body []byte)) {
	for _, in := range goldenInputs(t) {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			f(t, name, in, body)
		})
	}
}

// TestGolden decodes every documented example and compares the Go type and
// the canonical re-encoding (or the error) with its .golden file. Run with
// -update to rewrite the .golden files, then review the diff.
func TestGolden(t *testing.T) {
	forEachExample(t, func(t *testing.T, _, in string, body []byte) {
		got := goldenResult(t, body)
		goldenPath := strings.TrimSuffix(in, ".json") + ".golden"
		if *update {
			if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(goldenPath)
		if err != nil {
			t.Fatalf("%v (run go test ./callback -run TestGolden -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("decoding %s:\n got: %s\nwant: %s", in, got, want)
		}
	})
}

// goldenResult renders what Decode made of body: the Go type and the
// canonical encoding, or the error.
func goldenResult(t *testing.T, body []byte) []byte {
	t.Helper()
	var out struct {
		Type    string             `json:"type,omitempty"`
		Error   string             `json:"error,omitempty"`
		Encoded stdjson.RawMessage `json:"encoded,omitempty"`
	}
	ev, err := callback.Decode(body)
	if err != nil {
		out.Error = err.Error()
	} else {
		enc, err := callback.Encode(ev)
		if err != nil {
			t.Fatalf("Encode after a successful Decode: %v", err)
		}
		out.Type = fmt.Sprintf("%T", ev)
		out.Encoded = enc
	}
	b, err := stdjson.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// The documented examples whose times are not RFC 3339. Decoding them must
// fail, naming the field; every other example must decode.
var malformedExamples = map[string]string{
	"recordingAvailable-basic":    "eventTime",
	"recordingAvailable-enqueued": "eventTime",
}

// TestGoldenSemanticRoundTrip checks that re-encoding every documented
// example gives the same JSON value, member for member, up to the
// normalisations the package documents for the forms on which the sources
// disagree.
func TestGoldenSemanticRoundTrip(t *testing.T) {
	forEachExample(t, func(t *testing.T, name, _ string, body []byte) {
		ev, err := callback.Decode(body)
		if field, bad := malformedExamples[name]; bad {
			var fe *callback.FieldError
			if !errorsAs(err, &fe) || fe.Field != field {
				t.Fatalf("Decode = %v, want a FieldError on %s", err, field)
			}
			return
		}
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		enc, err := callback.Encode(ev)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		want := normalizeDocExample(t, jsonValue(t, body))
		got := jsonValue(t, enc)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("re-encoding differs from the example\n got: %s\nwant: %s", enc, mustJSON(want))
		}
	})
}

// normalizeDocExample applies the documented decode normalisations to an
// example, so that it can be compared with what Encode emits.
func normalizeDocExample(t *testing.T, v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("example is not a JSON object: %v", v)
	}
	// An older machineDetectionComplete page gives the verdict as a string.
	if s, ok := m["machineDetectionResult"].(string); ok {
		m["machineDetectionResult"] = map[string]any{"value": s}
	}
	// Real-time transcription pages also put the object under these keys.
	if et, _ := m["eventType"].(string); strings.HasPrefix(strings.ToLower(et), "realtimetranscription") {
		for _, alias := range []string{"transcription", "realtimeTranscription"} {
			if obj, ok := m[alias]; ok {
				delete(m, alias)
				m["realTimeTranscription"] = obj
			}
		}
	}
	return m
}

func jsonValue(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := stdjson.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return v
}

func mustJSON(v any) []byte {
	b, _ := stdjson.Marshal(v)
	return b
}
