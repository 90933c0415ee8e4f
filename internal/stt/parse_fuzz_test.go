package stt

import (
	"testing"
	"time"
)

// checkResult fails unless r's words are in order, inside length (when
// positive), not empty, with confidences from 0 to 1.
func checkResult(t *testing.T, r Result, length time.Duration) {
	t.Helper()
	if r.Confidence < 0 || r.Confidence > 1 {
		t.Errorf("confidence %v", r.Confidence)
	}
	var prev time.Duration
	for i, w := range r.Words {
		if w.Text == "" || w.Start < 0 || w.End < w.Start || (length > 0 && w.End > length) {
			t.Errorf("word %d: %+v", i, w)
		}
		if length > 0 && w.Start < prev {
			t.Errorf("word %d starts at %v, before the previous word's end %v", i, w.Start, prev)
		}
		if w.Confidence < 0 || w.Confidence > 1 {
			t.Errorf("word %d: confidence %v", i, w.Confidence)
		}
		prev = w.End
	}
}

func FuzzParseTranscript(f *testing.F) {
	f.Add("yes\n<sil> 0.000 0.120 0.99\nyes 0.130 0.420 0.18\n(NULL) 0.42 0.42 1\nread(2) 0.5 0.9 1.0001\n")
	f.Add("a b c d\nx 1e300 1e301 NaN\ny -1 2 0.5\nz 3 2 0.5\n")
	f.Add("w 0.5 0.4 Inf\n")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := parseTranscript([]byte(out), 2*time.Second)
		if err != nil {
			return
		}
		checkResult(t, r, 2*time.Second)
	})
}

func FuzzParseVerbose(f *testing.F) {
	f.Add(`{"text":"yes no","words":[{"word":"yes","start":0.1,"end":0.5,"probability":1.5}],"segments":[{"start":0,"end":1,"text":"yes no","avg_logprob":3}]}`)
	f.Add(`{"text":"a","segments":[{"start":0,"end":1e300,"text":"a b","avg_logprob":-1e300,"no_speech_prob":1}]}`)
	f.Add(`{"text":"","words":[{"word":" ","start":-1,"end":0}]}`)
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := parseVerbose([]byte(raw))
		if err != nil {
			return
		}
		checkResult(t, r, 0)
	})
}
