package bxml_test

import (
	"strings"
	"testing"

	"github.com/voicehook/voicehook/bxml"
)

func TestRequireAbsoluteURLs(t *testing.T) {
	for doc, want := range map[string]string{
		`<Bxml><Redirect redirectUrl="https://app.example/next"/></Bxml>`:                                       "",
		`<Bxml><Redirect redirectUrl="/next"/></Bxml>`:                                                          `<Redirect redirectUrl>: "/next" is relative`,
		`<Bxml><Gather gatherUrl="https://a.example/g"><PlayAudio>menu.wav</PlayAudio></Gather></Bxml>`:         `<PlayAudio text>: "menu.wav" is relative`,
		`<Bxml><Transfer><PhoneNumber transferAnswerUrl="whisper">+15550000200</PhoneNumber></Transfer></Bxml>`: `<PhoneNumber transferAnswerUrl>: "whisper" is relative`,
	} {
		b, err := bxml.ParseUpdate([]byte(doc), bxml.CallContext)
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		err = b.RequireAbsoluteURLs()
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
	}
}
