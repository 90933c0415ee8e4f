package bxml_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/bxml"
)

var update = flag.Bool("update", false, "rewrite the .golden files from the current output")

// goldenFiles lists testdata/golden/*.xml. A name holding ".update." is a
// <Bxml> update, ".conference." parses in ConferenceContext and
// ".transfer-answer." in TransferAnswerContext.
func goldenFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/golden/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden documents: %v", err)
	}
	return files
}

func parseGolden(path string, data []byte) ([]bxml.Verb, error) {
	ctx := bxml.CallContext
	switch {
	case strings.Contains(path, ".conference."):
		ctx = bxml.ConferenceContext
	case strings.Contains(path, ".transfer-answer."):
		ctx = bxml.TransferAnswerContext
	}
	if strings.Contains(path, ".update.") {
		b, err := bxml.ParseUpdate(data, ctx)
		if err != nil {
			return nil, err
		}
		return b.Verbs, nil
	}
	r, err := bxml.Parse(data, ctx)
	if err != nil {
		return nil, err
	}
	return r.Verbs, nil
}

// TestGolden parses every document under testdata/golden and compares the
// parse, as JSON, or the error with the .golden file beside it. Documents
// named *-valid* must parse and *-invalid* must not. Run with -update to
// rewrite the .golden files, then review the diff.
func TestGolden(t *testing.T) {
	for _, path := range goldenFiles(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".xml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			verbs, err := parseGolden(path, data)
			valid := strings.Contains(name, "-valid")
			if valid && err != nil {
				t.Fatalf("a valid document failed: %v", err)
			}
			if !valid && err == nil {
				t.Fatalf("an invalid document parsed: %s", describeJSON(t, verbs))
			}
			var got []byte
			if err != nil {
				var list bxml.ErrorList
				if !errors.As(err, &list) {
					t.Fatalf("error is a %T, not an ErrorList: %v", err, err)
				}
				for _, e := range list {
					got = append(got, e.Error()+"\n"...)
				}
			} else {
				got = describeJSON(t, verbs)
			}
			golden := strings.TrimSuffix(path, ".xml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./bxml -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

// describe renders verbs as JSON-ready values: each verb an object with
// its name under "verb" and its set fields, durations as Go durations.
func describe(v any) any {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice:
		out := []any{}
		for i := range rv.Len() {
			out = append(out, describe(rv.Index(i).Interface()))
		}
		return out
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		if verb, ok := v.(bxml.Verb); ok {
			m := map[string]any{"verb": verb.VerbName()}
			st := rv.Elem()
			for i := range st.NumField() {
				f := st.Field(i)
				if f.IsZero() {
					continue
				}
				m[st.Type().Field(i).Name] = describe(f.Interface())
			}
			return m
		}
		return describe(rv.Elem().Interface())
	}
	if d, ok := v.(time.Duration); ok {
		return d.String()
	}
	return v
}

func describeJSON(t testing.TB, verbs []bxml.Verb) []byte {
	b, err := json.MarshalIndent(describe(verbs), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}
