package bxml_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/bxml"
)

func TestContexts(t *testing.T) {
	conference := map[string]bool{"PlayAudio": true, "SpeakSentence": true, "StartRecording": true,
		"StopRecording": true, "PauseRecording": true, "ResumeRecording": true}
	transferAnswer := map[string]bool{"Gather": true, "Hangup": true, "Pause": true, "PauseRecording": true,
		"PlayAudio": true, "Record": true, "Redirect": true, "ResumeRecording": true, "Ring": true,
		"SendDtmf": true, "SpeakSentence": true, "StartGather": true, "StartRecording": true,
		"StopGather": true, "StopRecording": true, "Tag": true}
	for _, v := range everyVerb(t) {
		name := v.VerbName()
		for _, c := range []struct {
			ctx     bxml.Context
			allowed bool
		}{
			{bxml.CallContext, true},
			{bxml.ConferenceContext, conference[name]},
			{bxml.TransferAnswerContext, transferAnswer[name]},
		} {
			data, err := bxml.NewResponse(v).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			_, err = bxml.Parse(data, c.ctx)
			if c.allowed && err != nil {
				t.Errorf("%s in %s: %v", name, c.ctx, err)
			}
			if !c.allowed && (err == nil || !strings.Contains(err.Error(), "not allowed in "+c.ctx.String())) {
				t.Errorf("%s in %s: err = %v, want it refused", name, c.ctx, err)
			}
		}
	}
}

func TestValidateBuiltDocument(t *testing.T) {
	resp := bxml.NewResponse(
		&bxml.Gather{MaxDigits: 99, Prompts: []bxml.Verb{&bxml.SpeakSentence{}}},
		&bxml.Redirect{},
	)
	err := resp.Validate(bxml.CallContext)
	var list bxml.ErrorList
	if !errors.As(err, &list) || len(list) != 3 {
		t.Fatalf("Validate = %v, want three problems", err)
	}
	want := []string{
		"<Gather maxDigits>: 99 is out of range: 1 to 50",
		"<SpeakSentence>: has nothing to say",
		"<Redirect redirectUrl>: required attribute is missing",
	}
	for i, e := range list {
		if e.Error() != want[i] {
			t.Errorf("problem %d = %q, want %q (no position for a built document)", i, e, want[i])
		}
	}
	var first *bxml.Error
	if !errors.As(err, &first) || first.Verb != "Gather" || first.Attr != "maxDigits" {
		t.Errorf("errors.As found %+v", first)
	}
	if err := bxml.NewBxml(&bxml.Hangup{}).Validate(bxml.ConferenceContext); err == nil {
		t.Error("a Hangup validated for a conference")
	}
}

func TestErrorListMessage(t *testing.T) {
	doc := "<Response>\n" + strings.Repeat("  <Pause duration=\"0\"/>\n", 5) + "</Response>"
	_, err := bxml.Parse([]byte(doc), bxml.CallContext)
	want := "invalid BXML: line 2, column 3: <Pause duration>: 0 is out of range: 0.1 to 86400 s; " +
		"line 3, column 3: <Pause duration>: 0 is out of range: 0.1 to 86400 s; " +
		"line 4, column 3: <Pause duration>: 0 is out of range: 0.1 to 86400 s; and 2 more"
	if err == nil || err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}
}

func TestResolveURLs(t *testing.T) {
	resp := bxml.NewResponse(
		&bxml.Gather{GatherURL: "next", GatherFallbackURL: "https://backup.example.com/g",
			Prompts: []bxml.Verb{&bxml.PlayAudio{URL: "/audio/menu.wav"}}},
		&bxml.Transfer{TransferCompleteURL: "../done", Targets: []bxml.Verb{&bxml.PhoneNumber{Number: "+15553334444", TransferAnswerURL: "whisper?x=1"}}},
		&bxml.StartStream{Destination: "wss://ws.example.com/s"},
	)
	if err := resp.ResolveURLs("https://app.example.com/ivr/answer"); err != nil {
		t.Fatal(err)
	}
	g := resp.Verbs[0].(*bxml.Gather)
	tr := resp.Verbs[1].(*bxml.Transfer)
	for got, want := range map[string]string{
		g.GatherURL:                        "https://app.example.com/ivr/next",
		g.GatherFallbackURL:                "https://backup.example.com/g",
		g.Prompts[0].(*bxml.PlayAudio).URL: "https://app.example.com/audio/menu.wav",
		tr.TransferCompleteURL:             "https://app.example.com/done",
		tr.Targets[0].(*bxml.PhoneNumber).TransferAnswerURL: "https://app.example.com/ivr/whisper?x=1",
		resp.Verbs[2].(*bxml.StartStream).Destination:       "wss://ws.example.com/s",
	} {
		if got != want {
			t.Errorf("resolved to %q, want %q", got, want)
		}
	}
	if err := resp.ResolveURLs("/relative"); err == nil {
		t.Error("a relative base was accepted")
	}
}

func TestRelativeURLsAreKept(t *testing.T) {
	r, err := bxml.Parse([]byte(`<Response><Gather gatherUrl="onGatherComplete"/><Redirect redirectUrl="/goodbyeMessage"/></Response>`), bxml.CallContext)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Verbs[1].(*bxml.Redirect).RedirectURL; got != "/goodbyeMessage" {
		t.Errorf("RedirectURL = %q", got)
	}
}

func TestEmptyResponseIsValid(t *testing.T) {
	for _, doc := range []string{`<Response/>`, `<?xml version="1.0"?><Response></Response>`, "<Response>\n  <!-- nothing -->\n</Response>"} {
		r, err := bxml.Parse([]byte(doc), bxml.CallContext)
		if err != nil || r.Verbs == nil || len(r.Verbs) != 0 {
			t.Errorf("%q: %v, %#v", doc, err, r)
		}
	}
}

func TestPointerAttributes(t *testing.T) {
	r, err := bxml.Parse([]byte(`<Response><Record terminatingDigits=""/><Record/><Gather firstDigitTimeout="0"/><Gather/><Redirect redirectUrl="/x" tag=""/></Response>`), bxml.CallContext)
	if err != nil {
		t.Fatal(err)
	}
	if d := r.Verbs[0].(*bxml.Record).TerminatingDigits; d == nil || *d != "" {
		t.Errorf(`terminatingDigits="" gave %v, want a pointer to ""`, d)
	}
	if d := r.Verbs[1].(*bxml.Record).TerminatingDigits; d != nil {
		t.Errorf("absent terminatingDigits gave %q", *d)
	}
	if d := r.Verbs[2].(*bxml.Gather).FirstDigitTimeout; d == nil || *d != 0 {
		t.Errorf(`firstDigitTimeout="0" gave %v`, d)
	}
	if d := r.Verbs[3].(*bxml.Gather).FirstDigitTimeout; d != nil {
		t.Errorf("absent firstDigitTimeout gave %v", *d)
	}
	if tag := r.Verbs[4].(*bxml.Redirect).Tag; tag == nil || *tag != "" {
		t.Errorf(`tag="" gave %v, want a pointer to "" (it clears the tag)`, tag)
	}
	if d := (&bxml.Pause{Duration: 1500 * time.Millisecond}); bxml.NewResponse(d).String() != `<?xml version="1.0" encoding="UTF-8"?><Response><Pause duration="1.5"/></Response>` {
		t.Errorf("String() = %s", bxml.NewResponse(d))
	}
}
