// Command transfer is the app of the README's worked example "an inbound
// call transferred to an agent": the caller hears "Connecting you to an
// agent." and is transferred to the agent, who first hears a whisper; when
// the agent hangs up, the caller hears a goodbye.
//
// Run it beside voicehook, which sends it the dev application's inbound
// calls:
//
//	go run ./cmd/voicehook serve --initiate-url http://127.0.0.1:3000/initiate --status-url http://127.0.0.1:3000/status
//	go run ./examples/transfer
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

// agent is voicehook's simulated agent: it answers after a second and hangs
// up five seconds later.
const agent = "+15550000200"

// app serves the webhooks of the transfer, at any path: the event type says
// what happened.
func app(log *slog.Logger) http.Handler {
	h := webhook.New(webhook.WithLogger(log))
	h.OnInitiate(func(_ context.Context, ev *callback.Initiate) (*bxml.Response, error) {
		log.Info("initiate", "call", ev.CallID, "from", ev.From, "to", ev.To)
		// The agent sees the number the caller dialled.
		return bxml.NewResponse(
			&bxml.SpeakSentence{Text: "Connecting you to an agent."},
			&bxml.Transfer{TransferCallerID: ev.To, TransferCompleteURL: "/transfer-complete",
				Targets: []bxml.Verb{&bxml.PhoneNumber{Number: agent, TransferAnswerURL: "/whisper", TransferDisconnectURL: "/agent-gone"}}},
		), nil
	})
	h.OnTransferAnswer(func(_ context.Context, ev *callback.TransferAnswer) (*bxml.Response, error) {
		log.Info("transferAnswer", "call", ev.CallID, "parentCallId", ev.ParentCallID, "to", ev.To)
		// Only the agent hears this, before the two are connected.
		return bxml.NewResponse(&bxml.SpeakSentence{Text: "Caller from the website."}), nil
	})
	h.OnTransferDisconnect(func(_ context.Context, ev *callback.TransferDisconnect) error {
		log.Info("transferDisconnect", "call", ev.CallID, "parentCallId", ev.ParentCallID, "cause", ev.Cause)
		return nil
	})
	h.OnTransferComplete(func(_ context.Context, ev *callback.TransferComplete) (*bxml.Response, error) {
		log.Info("transferComplete", "call", ev.CallID, "transferTo", ev.TransferTo, "cause", ev.Cause)
		if ev.Cause != callback.CauseHangup {
			// The agent was busy, declined or did not answer.
			return bxml.NewResponse(&bxml.SpeakSentence{Text: "Nobody can take your call now. Please call again later."}, &bxml.Hangup{}), nil
		}
		return bxml.NewResponse(&bxml.SpeakSentence{Text: "Thanks for calling."}, &bxml.Hangup{}), nil
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
	log.Info("transfer app listening", "url", "http://"+*addr)
	srv := &http.Server{Addr: *addr, Handler: app(log), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("transfer app stopped", "err", err)
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
