package bxml_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/voicehook/voicehook/bxml"
)

// FuzzParse feeds arbitrary documents to Parse, in every context. It must
// never panic; it must fail with an ErrorList; and whatever it accepts must
// marshal and parse back to the same verbs, marshalling to the same bytes.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.xml")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0))
	}
	f.Add([]byte(`<Response><SpeakSentence>a<break/>b&amp;c<!-- x --></SpeakSentence></Response>`), uint8(0))
	f.Add([]byte("<Response><Tag>a\r\nb\tc</Tag><Redirect redirectUrl=\"/x\" tag=\"a&#10;b\"/></Response>"), uint8(0))
	f.Add([]byte(`<Response><Pause duration="0.1000000001"/></Response>`), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, c uint8) {
		ctx := bxml.Context(c % 3)
		resp, err := bxml.Parse(data, ctx)
		if err != nil {
			var list bxml.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %T %v", err, err)
			}
			return
		}
		out1, err := resp.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed document: %v", err)
		}
		back, err := bxml.Parse(out1, ctx)
		if err != nil {
			t.Fatalf("the marshalled document does not parse: %v\n%s", err, out1)
		}
		if !reflect.DeepEqual(back.Verbs, resp.Verbs) {
			t.Fatalf("parse → marshal → parse changed the verbs\nfirst:  %#v\nsecond: %#v\n%s", resp.Verbs, back.Verbs, out1)
		}
		out2, _ := back.Marshal()
		if !bytes.Equal(out1, out2) {
			t.Fatalf("marshalling is not stable:\n%s\n%s", out1, out2)
		}
		if err := resp.Validate(ctx); err != nil {
			t.Fatalf("Validate refuses a parsed document: %v", err)
		}
	})
}
