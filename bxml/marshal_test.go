package bxml_test

import (
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/bxml"
)

// TestMarshalMatchesOfficialSDK checks the conventions of the official node
// SDK's output: the declaration, no whitespace, self-closing empty elements,
// attributes in its order, numbers as JavaScript writes them, SSML
// unescaped.
func TestMarshalMatchesOfficialSDK(t *testing.T) {
	const decl = `<?xml version="1.0" encoding="UTF-8"?>`
	cases := []struct {
		name string
		doc  interface{ Marshal() ([]byte, error) }
		want string
	}{
		{"empty response", bxml.NewResponse(), decl + `<Response/>`},
		{"empty update", bxml.NewBxml(), decl + `<Bxml/>`},
		{"update", bxml.NewBxml(&bxml.PauseRecording{}), decl + `<Bxml><PauseRecording/></Bxml>`},
		{"whole seconds", bxml.NewResponse(&bxml.Pause{Duration: 5 * time.Second}), decl + `<Response><Pause duration="5"/></Response>`},
		{"fractions and booleans", bxml.NewResponse(&bxml.Ring{Duration: 5100 * time.Millisecond, AnswerCall: new(false)}),
			decl + `<Response><Ring duration="5.1" answerCall="false"/></Response>`},
		{"empty verbs", bxml.NewResponse(&bxml.StopGather{}, &bxml.Hangup{}), decl + `<Response><StopGather/><Hangup/></Response>`},
		{"gather", bxml.NewResponse(&bxml.Gather{
			GatherURL: "https://app.example.com/gather", GatherMethod: "GET", Tag: new("menu"),
			TerminatingDigits: "#", MaxDigits: 3, InterDigitTimeout: 3 * time.Second, FirstDigitTimeout: new(0 * time.Second),
			RepeatCount: 2,
			Prompts: []bxml.Verb{
				&bxml.PlayAudio{URL: "https://audio.example.com/menu.wav"},
				&bxml.SpeakSentence{SSML: `<lang xml:lang="es-MX">Hola</lang> press <emphasis>one</emphasis>`, Voice: "julie"},
			},
		}), decl + `<Response><Gather gatherUrl="https://app.example.com/gather" gatherMethod="GET" tag="menu" terminatingDigits="#" maxDigits="3" interDigitTimeout="3" firstDigitTimeout="0" repeatCount="2">` +
			`<PlayAudio>https://audio.example.com/menu.wav</PlayAudio><SpeakSentence voice="julie"><lang xml:lang="es-MX">Hola</lang> press <emphasis>one</emphasis></SpeakSentence></Gather></Response>`},
		{"transfer", bxml.NewResponse(&bxml.Transfer{
			TransferCallerID: "+19195551234", CallTimeout: 15 * time.Second, Tag: new("t"),
			Targets: []bxml.Verb{
				&bxml.PhoneNumber{Number: "+19195551234", Tag: new("a"), UUI: "aGk;encoding=base64"},
				&bxml.SipUri{URI: "sip:bob@example.com", TransferAnswerURL: "/answer", UUI: "aGk;encoding=base64"},
			},
		}), decl + `<Response><Transfer transferCallerId="+19195551234" callTimeout="15" tag="t">` +
			`<PhoneNumber tag="a" uui="aGk;encoding=base64">+19195551234</PhoneNumber>` +
			`<SipUri uui="aGk;encoding=base64" transferAnswerUrl="/answer">sip:bob@example.com</SipUri></Transfer></Response>`},
		{"stream", bxml.NewResponse(&bxml.StartStream{
			Name: "s1", Mode: "bidirectional", Tracks: "both", Destination: "wss://ws.example.com/s",
			Params: []*bxml.StreamParam{{Name: "a", Value: "1"}, {Name: "b", Value: "2"}},
		}), decl + `<Response><StartStream name="s1" mode="bidirectional" tracks="both" destination="wss://ws.example.com/s"><StreamParam name="a" value="1"/><StreamParam name="b" value="2"/></StartStream></Response>`},
		{"conference", bxml.NewResponse(&bxml.Conference{Name: "room-1", Mute: true, CallbackTimeout: 5100 * time.Millisecond}),
			decl + `<Response><Conference mute="true" callbackTimeout="5.1">room-1</Conference></Response>`},
		{"milliseconds", bxml.NewResponse(&bxml.SendDtmf{Digits: "12w3", ToneDuration: 250 * time.Millisecond, ToneInterval: 100 * time.Millisecond}),
			decl + `<Response><SendDtmf toneDuration="250" toneInterval="100">12w3</SendDtmf></Response>`},
		{"escaping", bxml.NewResponse(
			&bxml.SpeakSentence{Text: `Tom & Jerry <3 "quoted"`},
			&bxml.Redirect{RedirectURL: "/next?a=1&b=2", Tag: new(`say "hi" <now>`)}),
			decl + `<Response><SpeakSentence>Tom &amp; Jerry &lt;3 "quoted"</SpeakSentence>` +
				`<Redirect redirectUrl="/next?a=1&amp;b=2" tag="say &quot;hi&quot; &lt;now&gt;"/></Response>`},
	}
	for _, c := range cases {
		got, err := c.doc.Marshal()
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestMarshalRefusesBrokenDocuments(t *testing.T) {
	var nilPause *bxml.Pause
	for name, doc := range map[string]*bxml.Response{
		"nil verb":       bxml.NewResponse(nil),
		"nil pointer":    bxml.NewResponse(nilPause),
		"wrong child":    bxml.NewResponse(&bxml.Gather{Prompts: []bxml.Verb{&bxml.Hangup{}}}),
		"nil child":      bxml.NewResponse(&bxml.Transfer{Targets: []bxml.Verb{nil}}),
		"nil child type": bxml.NewResponse(&bxml.Gather{Prompts: []bxml.Verb{(*bxml.PlayAudio)(nil)}}),
	} {
		if _, err := doc.Marshal(); err == nil {
			t.Errorf("%s: Marshal succeeded", name)
		}
		if err := doc.Validate(bxml.CallContext); err == nil {
			t.Errorf("%s: Validate succeeded", name)
		}
	}
}

func TestMarshalVerbIsTheVerbAlone(t *testing.T) {
	g := &bxml.Gather{GatherURL: "/menu", MaxDigits: 1, Prompts: []bxml.Verb{&bxml.SpeakSentence{Text: "Press 1 & go"}}}
	got, err := bxml.MarshalVerb(g)
	if err != nil {
		t.Fatal(err)
	}
	want := `<Gather gatherUrl="/menu" maxDigits="1"><SpeakSentence>Press 1 &amp; go</SpeakSentence></Gather>`
	if string(got) != want {
		t.Errorf("MarshalVerb\n got %s\nwant %s", got, want)
	}
	// It is what a whole document holds for the verb.
	doc, _ := bxml.NewResponse(g).Marshal()
	if !strings.Contains(string(doc), want) {
		t.Errorf("document %s does not hold %s", doc, want)
	}
	if _, err := bxml.MarshalVerb(nil); err == nil {
		t.Error("MarshalVerb(nil) succeeded")
	}
}
