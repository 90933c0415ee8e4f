package main

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/voicehook/voicehook/internal/readme"
)

// TestREADME runs the README's "Worked example: a conference" as written.
func TestREADME(t *testing.T) {
	_, results := readme.Run(t, "Worked example: a conference", app(slog.New(slog.NewTextHandler(t.Output(), nil))),
		readme.Options{AnyOrder: [][]string{{"conferenceMemberExit", "disconnect", "conferenceCompleted"}}})
	// Among themselves, the conference events keep the table's order.
	var conf []string
	for _, g := range results[0].Webhooks {
		if g.Path == "/conference" {
			conf = append(conf, string(g.Event.Type()))
		}
	}
	want := []string{"conferenceCreated", "conferenceMemberJoin", "conferenceMemberJoin",
		"conferenceMemberExit", "conferenceMemberExit", "conferenceCompleted"}
	if !slices.Equal(conf, want) {
		t.Errorf("conference events %q, want %q", conf, want)
	}
}
