// Command ivr is the phone menu of the README's worked example "a phone
// menu": callers hear "For sales press 1, to leave a message press 2."; 1
// transfers them to sales, 2 records a message, and a wrong key or silence
// plays the menu again, three times at most.
//
// Run it beside voicehook, which sends it the dev application's inbound
// calls:
//
//	go run ./cmd/voicehook serve --initiate-url http://127.0.0.1:3000/initiate --status-url http://127.0.0.1:3000/status
//	go run ./examples/ivr
//
// It listens on 127.0.0.1:3000; -addr, or PORT in the environment, changes
// that. 1 transfers to the simulated agent +15550000200; -sales, or SALES
// in the environment, names another number, such as the dev account's
// second softphone user:
//
//	go run ./examples/ivr --sales +15557770001
//
// It logs every webhook it gets.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/webhook"
)

const (
	// defaultSales is the number 1 transfers to unless told otherwise:
	// voicehook's simulated agent, which answers after a second and hangs
	// up five seconds later.
	defaultSales = "+15550000200"
	prompt       = "For sales press 1, to leave a message press 2."
	tries        = 3
)

// app serves the menu's webhooks, at any path: the event type says what
// happened. The Gather's tag counts the tries; 1 transfers to sales.
func app(log *slog.Logger, sales string) http.Handler {
	h := webhook.New(webhook.WithLogger(log))
	ask := func(try int, before ...bxml.Verb) *bxml.Response {
		tag := strconv.Itoa(try)
		return bxml.NewResponse(append(before, &bxml.Gather{GatherURL: "/menu", MaxDigits: 1, Tag: &tag,
			Prompts: []bxml.Verb{&bxml.SpeakSentence{Text: prompt}}})...)
	}
	h.OnInitiate(func(_ context.Context, ev *callback.Initiate) (*bxml.Response, error) {
		log.Info("initiate", "call", ev.CallID, "from", ev.From, "to", ev.To, "sipHeaders", ev.SIPHeaders)
		return ask(1), nil
	})
	h.OnGather(func(_ context.Context, ev *callback.Gather) (*bxml.Response, error) {
		try := 1
		if ev.Tag != nil {
			try, _ = strconv.Atoi(*ev.Tag)
		}
		log.Info("gather", "call", ev.CallID, "digits", ev.Digits, "try", try)
		switch ev.Digits {
		case "1":
			return bxml.NewResponse(&bxml.Transfer{Targets: []bxml.Verb{&bxml.PhoneNumber{Number: sales}}}), nil
		case "2":
			return bxml.NewResponse(&bxml.SpeakSentence{Text: "Leave your message after the tone."}, &bxml.Record{}), nil
		}
		if try >= tries {
			return bxml.NewResponse(&bxml.SpeakSentence{Text: "Goodbye."}, &bxml.Hangup{}), nil
		}
		if ev.Digits == "" {
			return ask(try+1, &bxml.SpeakSentence{Text: "I did not hear anything."}), nil
		}
		return ask(try+1, &bxml.SpeakSentence{Text: "Sorry, that is not an option."}), nil
	})
	h.OnDisconnect(func(_ context.Context, ev *callback.Disconnect) error {
		log.Info("disconnect", "call", ev.CallID, "cause", ev.Cause)
		return nil
	})
	return h
}

func main() {
	set, err := parse(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		os.Exit(2) // the flag package has said why
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	log.Info("IVR listening", "url", "http://"+set.addr, "sales", set.sales)
	srv := &http.Server{Addr: set.addr, Handler: app(log, set.sales), ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		log.Error("IVR stopped", "err", err)
		os.Exit(1)
	}
}

// settings are the IVR's flags, each defaulting to its environment
// variable, then to a constant.
type settings struct {
	addr  string // -addr, PORT: where it listens
	sales string // -sales, SALES: the number 1 transfers to
}

// parse reads the flags in args, with the environment of getenv.
func parse(args []string, getenv func(string) string) (settings, error) {
	var set settings
	fs := flag.NewFlagSet("ivr", flag.ContinueOnError)
	addr := "127.0.0.1:3000"
	if p := getenv("PORT"); p != "" {
		addr = "127.0.0.1:" + p
	}
	sales := defaultSales
	if n := getenv("SALES"); n != "" {
		sales = n
	}
	fs.StringVar(&set.addr, "addr", addr, "address to listen on (PORT in the environment: 127.0.0.1:$PORT)")
	fs.StringVar(&set.sales, "sales", sales, "the number 1 transfers to (SALES in the environment)")
	err := fs.Parse(args)
	return set, err
}
