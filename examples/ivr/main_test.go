package main

import (
	"log/slog"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/readme"
	"github.com/voicehook/voicehook/voicetest"
)

// TestREADME runs the README's "Worked example: a phone menu" as written.
func TestREADME(t *testing.T) {
	_, results := readme.Run(t, "Worked example: a phone menu", app(slog.New(slog.NewTextHandler(t.Output(), nil))), readme.Options{})
	var digits []string
	for _, g := range results[0].Webhooks {
		switch ev := g.Event.(type) {
		case *callback.Initiate:
			if ev.SIPHeaders["x-tenant"] != "acme" {
				t.Errorf("initiate's sipHeaders = %v, want x-tenant: acme", ev.SIPHeaders)
			}
		case *callback.Gather:
			digits = append(digits, ev.Digits)
		}
	}
	if !slices.Equal(digits, []string{"7", "1"}) {
		t.Errorf("gathered %q, want 7 then 1", digits)
	}
}

// TestMenu runs every branch of the menu in process, on a virtual clock.
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
				v := voicetest.New(t, app(slog.New(slog.DiscardHandler)), voicetest.Options{Phones: map[string]voicetest.Phone{
					"+15557770000": {GatherInputs: tc.keys, Says: "Call me back.", HangupAfter: 5 * time.Minute},
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
