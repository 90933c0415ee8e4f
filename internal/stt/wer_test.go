package stt_test

import (
	"math"
	"testing"

	"github.com/voicehook/voicehook/internal/stt"
)

func TestWER(t *testing.T) {
	cases := []struct {
		ref, hyp string
		want     float64
	}{
		{"", "", 0},
		{"", "hello", 1},
		{"hello", "", 1},
		{"I want to cancel my order.", "i want to cancel my order", 0},
		{"My account number is 12345.", "my account number is one two three four five", 0},
		{"yes that is correct", "yes that was correct", 0.25},                 // one substitution
		{"yes that is correct", "yes is correct", 0.25},                       // one deletion
		{"yes that is correct", "oh yes that is correct", 0.25},               // one insertion
		{"one two three", "three two one", 2.0 / 3},                           // two substitutions beat a reordering
		{"no", "what took you so are", 5},                                     // can exceed 1
		{"I want to cancel my order", "what took you so are the ah", 7.0 / 6}, // the transcript
	}
	for _, tc := range cases {
		if got := stt.WER(tc.ref, tc.hyp); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("WER(%q, %q) = %.3f, want %.3f", tc.ref, tc.hyp, got, tc.want)
		}
	}
}
