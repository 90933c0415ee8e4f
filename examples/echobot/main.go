// Command echobot is the voice bot of the README's section "Voice bots:
// media streams and transcription": it answers a call, says "Say something
// and I will say it back", and opens a bidirectional media stream to
// itself. It listens to the caller's audio on the stream, and when the
// caller has said something and paused, it plays what it heard back over
// the same socket (playAudio). If the caller speaks while it is still
// playing, it stops (clear), as a bot that can be interrupted does.
//
// It needs no speech service: it tells speech from silence by the audio's
// energy. Run it beside voicehook, which sends it the dev application's
// inbound calls:
//
//	go run ./cmd/voicehook serve --initiate-url http://127.0.0.1:3000/initiate
//	go run ./examples/echobot
//
// It listens on 127.0.0.1:3000 (-addr, or PORT in the environment) and
// serves the webhooks at any path but /stream, the bot's WebSocket. It logs
// every webhook and every turn.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/webhook"
)

// Greeting is what the bot says when it answers.
const Greeting = "Say something and I will say it back."

// app serves the webhooks and the bot's WebSocket (/stream).
func app(log *slog.Logger) http.Handler { return appWith(&Bot{Log: log}) }

// appWith is app with a bot of the caller's.
func appWith(bot *Bot) http.Handler {
	log := bot.Log
	h := webhook.New(webhook.WithLogger(log))
	start := func(ctx context.Context) *bxml.Response {
		return bxml.NewResponse(
			&bxml.SpeakSentence{Text: Greeting},
			&bxml.StartStream{Name: "echo", Mode: "bidirectional", Destination: ctx.Value(streamURL{}).(string),
				StreamEventURL: "/stream-events"},
			// The stream does not keep the call up: the pause does, for
			// ten minutes, or until the caller hangs up.
			&bxml.Pause{Duration: 600 * time.Second},
		)
	}
	h.OnInitiate(func(ctx context.Context, ev *callback.Initiate) (*bxml.Response, error) {
		log.Info("initiate", "call", ev.CallID, "from", ev.From)
		return start(ctx), nil
	})
	h.OnAnswer(func(ctx context.Context, ev *callback.Answer) (*bxml.Response, error) {
		log.Info("answer", "call", ev.CallID, "to", ev.To)
		return start(ctx), nil
	})
	h.OnMediaStreamStarted(func(_ context.Context, ev *callback.MediaStreamStarted) error {
		log.Info("stream started", "call", ev.CallID, "stream", ev.MediaStream.ID)
		return nil
	})
	h.OnMediaStreamRejected(func(_ context.Context, ev *callback.MediaStreamRejected) error {
		log.Warn("stream rejected", "call", ev.CallID, "cause", ev.Cause, "message", ev.ErrorMessage)
		return nil
	})
	h.OnMediaStreamStopped(func(_ context.Context, ev *callback.MediaStreamStopped) error {
		log.Info("stream stopped", "call", ev.CallID, "cause", ev.Cause)
		return nil
	})
	h.OnDisconnect(func(_ context.Context, ev *callback.Disconnect) error {
		log.Info("disconnect", "call", ev.CallID, "cause", ev.Cause)
		return nil
	})
	mux := http.NewServeMux()
	mux.Handle("/stream", bot)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The stream goes to this server, as voicehook reached it.
		scheme := "ws"
		if r.TLS != nil {
			scheme = "wss"
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), streamURL{}, scheme+"://"+r.Host+"/stream")))
	}))
	return mux
}

// streamURL is the context key of the bot's WebSocket URL.
type streamURL struct{}

func main() {
	set, err := parse(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2) // the flag package has said why
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	log.Info("echo bot listening", "url", "http://"+set.addr, "stream", "ws://"+set.addr+"/stream")
	srv := &http.Server{Addr: set.addr, Handler: app(log), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("echo bot stopped", "err", err)
		os.Exit(1)
	}
}

// settings are the bot's flags, each defaulting to its environment
// variable, then to a constant.
type settings struct {
	addr string // -addr, PORT: where it listens
}

// parse reads the flags in args, with the environment of getenv.
func parse(args []string, getenv func(string) string) (settings, error) {
	var set settings
	fs := flag.NewFlagSet("echobot", flag.ContinueOnError)
	addr := "127.0.0.1:3000"
	if p := getenv("PORT"); p != "" {
		addr = "127.0.0.1:" + p
	}
	fs.StringVar(&set.addr, "addr", addr, "address to listen on (PORT in the environment: 127.0.0.1:$PORT)")
	err := fs.Parse(args)
	return set, err
}
