package bxml_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/bxml"
)

// ivrReply is a typical webhook reply: a Gather with two prompts, then a
// Redirect for when nothing is pressed.
const ivrReply = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather gatherUrl="https://app.example.com/menu" maxDigits="1" firstDigitTimeout="10" terminatingDigits="#">
    <SpeakSentence voice="julie">Thanks for calling. Press 1 for sales, 2 for support.</SpeakSentence>
    <PlayAudio>https://audio.example.com/menu-music.wav</PlayAudio>
  </Gather>
  <Redirect redirectUrl="https://app.example.com/no-input"/>
</Response>`

// bigDocument is close to the 64 KB limit.
func bigDocument() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response>`)
	for i := 0; b.Len() < 60<<10; i++ {
		fmt.Fprintf(&b, `<SpeakSentence voice="julie" locale="en_US">This is sentence number %d of a long announcement, read slowly.</SpeakSentence>`, i)
		fmt.Fprintf(&b, `<Pause duration="0.5"/>`)
	}
	b.WriteString(`</Response>`)
	return []byte(b.String())
}

func BenchmarkParse(b *testing.B) {
	for _, c := range []struct {
		name string
		doc  []byte
	}{
		{"ivr", []byte(ivrReply)},
		{"60KB", bigDocument()},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bxml.Parse(c.doc, bxml.CallContext); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	resp, err := bxml.Parse([]byte(ivrReply), bxml.CallContext)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := resp.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}
