// Command conference is the app of the README's worked example "a
// conference": every call it answers joins the conference "standup", and
// the room hears when someone joins.
//
// Run it beside voicehook, then place the calls with the REST API (the
// README has the requests):
//
//	go run ./cmd/voicehook serve
//	go run ./examples/conference
//
// It listens on 127.0.0.1:3000; -addr, or PORT in the environment, changes
// that. It logs every webhook it gets.
package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/webhook"
)

// app serves the calls' and the conference's webhooks, at any path: the
// event type says what happened.
func app(log *slog.Logger) http.Handler {
	h := webhook.New(webhook.WithLogger(log))
	h.OnAnswer(func(_ context.Context, ev *callback.Answer) (*bxml.Response, error) {
		log.Info("answer", "call", ev.CallID, "to", ev.To)
		return bxml.NewResponse(
			&bxml.SpeakSentence{Text: "Welcome to the standup."},
			&bxml.Conference{Name: "standup", ConferenceEventURL: "/conference"},
		), nil
	})
	h.OnConferenceCreated(func(_ context.Context, ev *callback.ConferenceCreated) (*bxml.Response, error) {
		log.Info("conferenceCreated", "conference", ev.ConferenceID, "name", ev.Name)
		return nil, nil
	})
	h.OnConferenceMemberJoin(func(_ context.Context, ev *callback.ConferenceMemberJoin) (*bxml.Response, error) {
		log.Info("conferenceMemberJoin", "conference", ev.ConferenceID, "call", ev.CallID)
		// Conference BXML: the whole room hears it.
		return bxml.NewResponse(&bxml.SpeakSentence{Text: "A new member joined."}), nil
	})
	h.OnConferenceMemberExit(func(_ context.Context, ev *callback.ConferenceMemberExit) (*bxml.Response, error) {
		log.Info("conferenceMemberExit", "conference", ev.ConferenceID, "call", ev.CallID)
		return nil, nil
	})
	h.OnConferenceCompleted(func(_ context.Context, ev *callback.ConferenceCompleted) error {
		log.Info("conferenceCompleted", "conference", ev.ConferenceID)
		return nil
	})
	h.OnDisconnect(func(_ context.Context, ev *callback.Disconnect) error {
		log.Info("disconnect", "call", ev.CallID, "cause", ev.Cause)
		return nil
	})
	return h
}

func main() {
	addr := flag.String("addr", defaultAddr(), "address to listen on")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	log.Info("conference app listening", "url", "http://"+*addr)
	srv := &http.Server{Addr: *addr, Handler: app(log), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("conference app stopped", "err", err)
		os.Exit(1)
	}
}

// defaultAddr is 127.0.0.1:3000, or 127.0.0.1:$PORT.
func defaultAddr() string {
	if p := os.Getenv("PORT"); p != "" {
		return "127.0.0.1:" + p
	}
	return "127.0.0.1:3000"
}
