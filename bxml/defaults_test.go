package bxml_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/voicehook/voicehook/bxml"
)

func TestWithDefaults(t *testing.T) {
	orig := &bxml.Gather{GatherURL: "/menu", MaxDigits: 4, Prompts: []bxml.Verb{&bxml.SpeakSentence{Text: "Hi"}}}
	g := bxml.WithDefaults(orig).(*bxml.Gather)
	want := &bxml.Gather{
		GatherURL: "/menu", GatherMethod: "POST", GatherFallbackMethod: "POST",
		MaxDigits: 4, InterDigitTimeout: 5 * time.Second, FirstDigitTimeout: new(5 * time.Second), RepeatCount: 1,
		Prompts: []bxml.Verb{&bxml.SpeakSentence{Text: "Hi", Gender: "female", Locale: "en_US"}},
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("WithDefaults(Gather)\n got %#v\nwant %#v", g, want)
	}
	if orig.InterDigitTimeout != 0 || orig.Prompts[0].(*bxml.SpeakSentence).Gender != "" {
		t.Error("WithDefaults modified its argument")
	}
	r := bxml.WithDefaults(&bxml.Record{}).(*bxml.Record)
	if r.TerminatingDigits == nil || *r.TerminatingDigits != "#" || r.MaxDuration != time.Minute || r.FileFormat != "wav" || r.SilenceTimeout != 0 {
		t.Errorf("Record defaults: %+v", r)
	}
	disabled := bxml.WithDefaults(&bxml.Record{TerminatingDigits: new("")}).(*bxml.Record)
	if *disabled.TerminatingDigits != "" {
		t.Error(`an explicit terminatingDigits="" was replaced by the default`)
	}
	ring := bxml.WithDefaults(&bxml.Ring{}).(*bxml.Ring)
	if ring.Duration != 5*time.Second || ring.AnswerCall == nil || !*ring.AnswerCall {
		t.Errorf("Ring defaults: %+v", ring)
	}
	if p := bxml.WithDefaults(&bxml.Pause{}).(*bxml.Pause); p.Duration != time.Second {
		t.Errorf("Pause default: %v", p.Duration)
	}
	if d := bxml.WithDefaults(&bxml.SendDtmf{Digits: "1"}).(*bxml.SendDtmf); d.ToneDuration != 200*time.Millisecond || d.ToneInterval != 400*time.Millisecond {
		t.Errorf("SendDtmf defaults: %+v", d)
	}
	// Every verb with every default applied is still valid.
	for _, v := range everyVerb(t) {
		if err := bxml.NewResponse(bxml.WithDefaults(v)).Validate(bxml.CallContext); err != nil {
			t.Errorf("%s with defaults: %v", v.VerbName(), err)
		}
	}
}
