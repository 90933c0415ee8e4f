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
	_, results := readme.Run(t, "Worked example: a phone menu", app(slog.New(slog.NewTextHandler(t.Output(), nil)), defaultSales), readme.Options{})
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
		sales           string   // -sales
		keys            []string // pressed at each menu; "" stays silent
		spoken, dialled []string
	}{
		"sales":          {defaultSales, []string{"1"}, []string{prompt}, []string{defaultSales}},
		"other sales":    {"+15550000201", []string{"1"}, []string{prompt}, []string{"+15550000201"}},
		"message":        {defaultSales, []string{"2"}, []string{prompt, "Leave your message after the tone."}, nil},
		"wrong key":      {defaultSales, []string{"7", "1"}, []string{prompt, "Sorry, that is not an option.", prompt}, []string{defaultSales}},
		"silence thrice": {defaultSales, []string{"", "", ""}, []string{prompt, "I did not hear anything.", prompt, "I did not hear anything.", prompt, "Goodbye."}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v := voicetest.New(t, app(slog.New(slog.DiscardHandler), tc.sales), voicetest.Options{Phones: map[string]voicetest.Phone{
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

// -sales, or SALES, names the number 1 transfers to; -addr, or PORT,
// where the IVR listens.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want settings
	}{
		{nil, nil, settings{"127.0.0.1:3000", defaultSales}},
		{[]string{"--sales", "+15557770001"}, nil, settings{"127.0.0.1:3000", "+15557770001"}},
		{nil, map[string]string{"SALES": "+15557770001", "PORT": "3001"}, settings{"127.0.0.1:3001", "+15557770001"}},
		{[]string{"-sales", "+15550000201", "-addr", "127.0.0.1:3002"}, map[string]string{"SALES": "+15557770001"}, settings{"127.0.0.1:3002", "+15550000201"}},
	} {
		got, err := parse(tc.args, func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("args %q, env %v: %+v, %v; want %+v", tc.args, tc.env, got, err, tc.want)
		}
	}
}
