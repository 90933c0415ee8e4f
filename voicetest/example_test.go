package voicetest_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/voicetest"
	"github.com/voicehook/voicehook/webhook"
)

// The README's "Testing a Go voice app" shows the code between the
// readme:begin and readme:end lines; TestReadmeShowsTheExample keeps them
// the same.

// readme:begin
const sales, prompt = "+15550002000", "For sales press 1, to leave a message press 2."

// menu answers calls with a menu: 1 for sales, 2 for a message. A wrong key
// or silence hears it again, three times at most.
func menu() http.Handler {
	h := webhook.New()
	ask := func(try int, before ...bxml.Verb) (*bxml.Response, error) {
		tag := strconv.Itoa(try)
		return bxml.NewResponse(append(before, &bxml.Gather{GatherURL: "/menu", MaxDigits: 1, Tag: &tag,
			Prompts: []bxml.Verb{&bxml.SpeakSentence{Text: prompt}}})...), nil
	}
	h.OnInitiate(func(context.Context, *callback.Initiate) (*bxml.Response, error) { return ask(1) })
	h.OnGather(func(_ context.Context, ev *callback.Gather) (*bxml.Response, error) {
		switch ev.Digits {
		case "1":
			return bxml.NewResponse(&bxml.Transfer{Targets: []bxml.Verb{&bxml.PhoneNumber{Number: sales}}}), nil
		case "2":
			return bxml.NewResponse(&bxml.SpeakSentence{Text: "Leave your message after the tone."}, &bxml.Record{}), nil
		}
		try, _ := strconv.Atoi(*ev.Tag)
		if try == 3 {
			return bxml.NewResponse(&bxml.SpeakSentence{Text: "Goodbye."}, &bxml.Hangup{}), nil
		}
		if ev.Digits == "" {
			return ask(try+1, &bxml.SpeakSentence{Text: "I did not hear anything."})
		}
		return ask(try+1, &bxml.SpeakSentence{Text: "Sorry, that is not an option."})
	})
	return h
}

func TestMenu(t *testing.T) {
	for name, tc := range map[string]struct {
		keys            []string // pressed at each menu; "" stays silent
		spoken, dialled []string
	}{
		"sales":          {[]string{"1"}, []string{prompt}, []string{sales}},
		"message":        {[]string{"2"}, []string{prompt, "Leave your message after the tone."}, nil},
		"wrong key":      {[]string{"7", "1"}, []string{prompt, "Sorry, that is not an option.", prompt}, []string{sales}},
		"silence thrice": {[]string{"", "", ""}, []string{prompt, "I did not hear anything.", prompt, "I did not hear anything.", prompt, "Goodbye."}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := voicetest.New(t, menu(), voicetest.Options{Phones: map[string]voicetest.Phone{
					"+15557770000": {GatherInputs: tc.keys, Says: "Call me back.", HangupAfter: 5 * time.Minute},
					sales:          {HangupAfter: 30 * time.Second},
				}})
				call := v.Inbound("+15557770000", "+15550001000")
				v.Run()
				call.WantSpoken(tc.spoken...)
				if got := call.Dialled(); !slices.Equal(got, tc.dialled) {
					t.Errorf("dialled %q, want %q", got, tc.dialled)
				}
				call.WantCause("hangup")
			})
		})
	}
}

// readme:end
