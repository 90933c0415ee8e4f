// Command voicehook is a self-hosted engine for the Bandwidth Voice API v2
// dialect.
//
// Usage:
//
//	voicehook serve [flags]            run the engine: REST API, simulated phones, webhooks
//	voicehook decode [-query] [FILE]   check a callback body and print it in canonical form
//	voicehook version | --version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/voicehook/voicehook/callback"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `voicehook — a self-hosted engine for the Bandwidth Voice API v2 dialect

Commands:
  serve [flags]           run the engine: the REST API on --addr, simulated phones,
                          webhooks to your app (voicehook serve -h for the flags)
  decode [-query] [FILE]  read a callback body (JSON, or with -query a GET query
                          string) from FILE or standard input, report what is
                          wrong with it, or print its type and canonical JSON
  version                 print the version (also --version)
`

// run is main without the process: it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "decode":
		return runDecode(args[1:], stdin, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "voicehook", version)
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "voicehook: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func runDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	query := fs.Bool("query", false, "the input is a URL query string (a callback sent by GET)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	in, name := stdin, "standard input"
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "voicehook decode: at most one FILE")
		return 2
	}
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "voicehook decode: %v\n", err)
			return 1
		}
		defer f.Close()
		in, name = f, fs.Arg(0)
	}
	body, err := io.ReadAll(io.LimitReader(in, callback.MaxBodySize+1))
	if err != nil {
		fmt.Fprintf(stderr, "voicehook decode: read %s: %v\n", name, err)
		return 1
	}
	var ev callback.Event
	if *query {
		q, perr := url.ParseQuery(strings.TrimPrefix(strings.TrimSpace(string(body)), "?"))
		if perr != nil {
			fmt.Fprintf(stderr, "voicehook decode: %s: %v\n", name, perr)
			return 1
		}
		ev, err = callback.DecodeQuery(q)
	} else {
		ev, err = callback.Decode(body)
	}
	if err != nil && !(ev != nil && (errors.Is(err, callback.ErrUnknownEventType) || errors.Is(err, callback.ErrMissingEventType))) {
		fmt.Fprintf(stderr, "voicehook decode: %s: %v\n", name, err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "voicehook decode: %s: warning: %v\n", name, err)
	}
	out, eerr := callback.Encode(ev)
	if eerr != nil {
		fmt.Fprintf(stderr, "voicehook decode: %s: %v\n", name, eerr)
		return 1
	}
	fmt.Fprintf(stdout, "%s (%T)\n%s\n", ev.Type(), ev, out)
	if err != nil {
		return 1
	}
	return 0
}
