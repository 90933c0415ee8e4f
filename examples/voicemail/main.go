// Command voicemail is the app of the README's worked example "voicemail,
// or a message from a person": it calls with machine detection in sync
// mode, so the answer webhook says who picked up. An answering machine gets
// a message; a person is asked when to call back, and the answer is
// recorded and transcribed.
//
// Run it beside voicehook, then place the call with the REST API (the
// README has the request):
//
//	go run ./cmd/voicehook serve
//	go run ./examples/voicemail
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

const message = "Hi, this is Dr Chen's office: your appointment is tomorrow at ten."

// app serves the call's webhooks, at any path: the event type says what
// happened.
func app(log *slog.Logger) http.Handler {
	h := webhook.New(webhook.WithLogger(log))
	h.OnAnswer(func(_ context.Context, ev *callback.Answer) (*bxml.Response, error) {
		who := callback.MachineDetectionValue("")
		if ev.MachineDetectionResult != nil {
			who = ev.MachineDetectionResult.Value
		}
		log.Info("answer", "call", ev.CallID, "to", ev.To, "machineDetectionResult", who)
		if who == callback.AnsweringMachine {
			return bxml.NewResponse(&bxml.SpeakSentence{Text: message}, &bxml.Hangup{}), nil
		}
		return bxml.NewResponse(
			&bxml.SpeakSentence{Text: "When should we call you back?"},
			&bxml.Record{MaxDuration: 30 * time.Second, SilenceTimeout: 2 * time.Second, RecordCompleteURL: "/recorded",
				Transcribe: true, TranscriptionAvailableURL: "/transcription"},
		), nil
	})
	h.OnRecordComplete(func(_ context.Context, ev *callback.RecordComplete) (*bxml.Response, error) {
		log.Info("recordComplete", "call", ev.CallID, "recording", ev.RecordingID, "duration", ev.Duration, "media", ev.MediaURL)
		return bxml.NewResponse(&bxml.SpeakSentence{Text: "Thanks, goodbye."}, &bxml.Hangup{}), nil
	})
	h.OnTranscriptionAvailable(func(_ context.Context, ev *callback.TranscriptionAvailable) error {
		url := ""
		if ev.Transcription != nil {
			url = ev.Transcription.URL
		}
		log.Info("transcriptionAvailable", "call", ev.CallID, "recording", ev.RecordingID, "transcription", url)
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
	log.Info("voicemail app listening", "url", "http://"+*addr)
	srv := &http.Server{Addr: *addr, Handler: app(log), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("voicemail app stopped", "err", err)
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
