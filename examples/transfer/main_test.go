package main

import (
	"log/slog"
	"testing"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/readme"
)

// TestREADME runs the README's "Worked example: an inbound call transferred
// to an agent" as written.
func TestREADME(t *testing.T) {
	_, results := readme.Run(t, "Worked example: an inbound call transferred to an agent",
		app(slog.New(slog.NewTextHandler(t.Output(), nil))),
		readme.Options{AnyOrder: [][]string{{"transferDisconnect", "transferComplete"}}})
	var aLeg string
	for _, g := range results[0].Webhooks {
		switch ev := g.Event.(type) {
		case *callback.Initiate:
			aLeg = ev.CallID
		case *callback.TransferAnswer:
			if ev.ParentCallID != aLeg || ev.To != agent || ev.From != "+15550001000" {
				t.Errorf("transferAnswer: parentCallId %s from %s to %s; want %s from +15550001000 to %s", ev.ParentCallID, ev.From, ev.To, aLeg, agent)
			}
		case *callback.TransferDisconnect:
			if ev.ParentCallID != aLeg {
				t.Errorf("transferDisconnect: parentCallId %s, want %s", ev.ParentCallID, aLeg)
			}
		case *callback.TransferComplete:
			if ev.CallID != aLeg || ev.TransferTo != agent {
				t.Errorf("transferComplete on %s to %s, want on %s to %s", ev.CallID, ev.TransferTo, aLeg, agent)
			}
		case *callback.Disconnect:
			if ev.CallID != aLeg {
				t.Errorf("disconnect of %s, want the caller's, %s", ev.CallID, aLeg)
			}
		}
	}
}
