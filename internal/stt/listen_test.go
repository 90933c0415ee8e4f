package stt_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/stt"
)

// TestListenWithPocketsphinx feeds espeak-ng's speech, as a call carries
// it (8 kHz μ-law), frame by frame to a Transcriber over Pocketsphinx with
// IVR phrases, and checks the words heard and that each transcript lies
// on the speech. Pocketsphinx's 16 kHz model hears little of telephone
// audio: yes, no and the digits one to three said one at a time come out
// right; a digit string does not, and is only logged (measured: "one two
// three four five" heard as "one three one").
func TestListenWithPocketsphinx(t *testing.T) {
	needPocketsphinx(t)
	for _, tc := range []struct {
		phrases []string
		say     []string // one utterance each, a second apart
		exact   bool     // the words are asserted; otherwise logged
	}{
		{[]string{"yes", "no"}, []string{"yes", "no"}, true},
		{stt.Digits, []string{"one", "two", "three"}, true},
		{stt.Digits, []string{"one two three four five"}, false},
	} {
		t.Run(strings.Join(tc.say, ","), func(t *testing.T) {
			var line []int16
			type span struct{ from, to time.Duration }
			var speech []span
			for _, s := range tc.say {
				clip, from, to := speak(t, s, time.Second)
				c := telephone(clip)
				at := time.Duration(len(line)) * time.Second / 8000
				speech = append(speech, span{at + from, at + to})
				line = append(line, c.Samples...)
			}
			tr := &stt.Transcriber{Recognizer: &stt.Pocketsphinx{}, Options: stt.Options{Phrases: tc.phrases}}
			defer tr.Close()
			var mu sync.Mutex
			var got []engine.Transcript
			l := tr.Listen(engine.TranscriptionSpec{ID: "t-1", Tracks: []string{engine.TrackInbound}},
				func(tt engine.Transcript) {
					mu.Lock()
					defer mu.Unlock()
					got = append(got, tt)
				})
			defer l.Stop()
			// Five times as fast as a call: 100 ms of audio every 20 ms.
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := 0; i < len(line); i += 160 {
				l.Feed(engine.TrackInbound, line[i:min(i+160, len(line))])
				if i/160%5 == 4 {
					<-tick.C
				}
			}
			var heard []engine.Transcript
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				mu.Lock()
				heard = append(heard[:0], got...)
				mu.Unlock()
				if len(heard) >= len(tc.say) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d transcripts after 30 s: %+v", len(heard), heard)
				}
			}
			if frames, utts := l.(*stt.Listener).Dropped(); frames != 0 || utts != 0 {
				t.Errorf("dropped %d frames and %d utterances", frames, utts)
			}
			const tolerance = 150 * time.Millisecond
			for i, tt := range heard {
				t.Logf("%s %v–%v %q %.2f %q", tt.Track, tt.Start, tt.End, tt.Text, tt.Confidence, tt.Err)
				if i >= len(tc.say) {
					t.Errorf("transcript %d %q: only %d utterances were said", i+1, tt.Text, len(tc.say))
					continue
				}
				if tt.Err != "" {
					t.Errorf("transcript %d: %s", i+1, tt.Err)
				}
				if tt.Text != tc.say[i] && tc.exact {
					t.Errorf("heard %q, want %q", tt.Text, tc.say[i])
				}
				s := speech[i]
				if tt.Start < s.from-tolerance || tt.Start > s.from+tolerance || tt.End < s.to-tolerance || tt.End > s.to+tolerance {
					t.Errorf("%q from %v to %v; the speech is from %v to %v", tt.Text, tt.Start, tt.End, s.from, s.to)
				}
				var words []string
				for _, w := range tt.Words {
					words = append(words, w.Text)
					if w.Start < s.from-tolerance || w.End > s.to+tolerance {
						t.Errorf("word %q from %v to %v; the speech is from %v to %v", w.Text, w.Start, w.End, s.from, s.to)
					}
				}
				if strings.Join(words, " ") != tt.Text {
					t.Errorf("words %q, text %q", words, tt.Text)
				}
			}
		})
	}
}
