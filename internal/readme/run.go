package readme

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/server"
)

// The addresses the README uses for voicehook and for the app.
const (
	ServerAddr = "127.0.0.1:8080"
	AppAddr    = "127.0.0.1:3000"
	// appAddrPlaceholder stands for the app's address when documents are
	// compared.
	appAddrPlaceholder = "app.readme.test"
)

// Options adjust Run.
type Options struct {
	// AnyOrder lists sets of event types that the README says may arrive
	// in either order: neighbouring webhooks of one set are compared
	// without their order.
	AnyOrder [][]string
	// Timeout bounds each scenario; default one minute.
	Timeout time.Duration
}

// Got is a webhook the app got.
type Got struct {
	Path   string
	Event  callback.Event
	Status int
	Reply  string
}

// Response is voicehook's answer to a README request.
type Response struct {
	Status int
	Body   []byte
}

// Result is what one scenario did.
type Result struct {
	Responses []Response // one per request
	Webhooks  []Got      // in the order the app got them
}

// Run runs the worked example under heading, with app serving as the app
// the README starts. The test must be in the example's package: the README
// must start the app of the directory the test runs in. Run fails t when a
// request fails, when the webhooks differ from a table, or when the app
// answers BXML the README does not show.
func Run(t *testing.T, heading string, app http.Handler, opts Options) (*server.Server, []Result) {
	t.Helper()
	path, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := Parse(string(text), heading)
	if err != nil {
		t.Fatal(err)
	}
	if wd, err := os.Getwd(); err != nil || "./examples/"+filepath.Base(wd) != ex.App {
		t.Fatalf("%q starts the app with go run %s, not the one this test runs (%s)", heading, ex.App, wd)
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute
	}
	documents := map[string]bool{}
	for _, d := range ex.Documents {
		c, err := canonical(d)
		if err == nil {
			// A document that names the app (a stream's destination) is
			// compared with the address the app runs on here.
			c = strings.ReplaceAll(c, AppAddr, appAddrPlaceholder)
		}
		if err != nil {
			t.Fatalf("%q shows BXML that does not parse: %v\n%s", heading, err, d)
		}
		documents[c] = true
	}

	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{&logMu, &logs}, nil))
	t.Cleanup(func() {
		if t.Failed() {
			logMu.Lock()
			t.Logf("voicehook's log:\n%s", logs.String())
			logMu.Unlock()
		}
	})

	rec := &recorder{app: app, notify: make(chan struct{}, 1)}
	appSrv := httptest.NewServer(rec)
	t.Cleanup(appSrv.Close)
	appAddr := strings.TrimPrefix(appSrv.URL, "http://")

	cfg := server.Config{Addr: "127.0.0.1:0", DB: ":memory:", Logger: logger}
	flags := ex.Serve
	for i := 0; i < len(flags); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(flags[i], "-"), "=")
		if !hasValue {
			if i+1 >= len(flags) {
				t.Fatalf("%q: voicehook serve %s has no value", heading, flags[i])
			}
			i++
			value = flags[i]
		}
		value = strings.ReplaceAll(value, AppAddr, appAddr)
		switch name {
		case "initiate-url":
			cfg.InitiateURL = value
		case "status-url":
			cfg.StatusURL = value
		default:
			t.Fatalf("%q: voicehook serve --%s is not a flag this test knows", heading, name)
		}
	}
	srv, err := server.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start voicehook: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Close(ctx)
	})
	serverAddr := strings.TrimPrefix(srv.URL(), "http://")
	replace := strings.NewReplacer(ServerAddr, serverAddr, AppAddr, appAddr)

	client := &http.Client{Timeout: 10 * time.Second}
	var results []Result
	for _, sc := range ex.Scenarios {
		rec.reset()
		var res Result
		for _, r := range sc.Requests {
			req, err := r.NewRequest(replace)
			if err != nil {
				t.Fatalf("README.md line %d: %v", r.Line, err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("README.md line %d: %v", r.Line, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Fatalf("README.md line %d: %s answered %d %s", r.Line, r.Text, resp.StatusCode, body)
			}
			res.Responses = append(res.Responses, Response{resp.StatusCode, body})
		}
		res.Webhooks = rec.waitFor(len(sc.Want), opts.Timeout)
		// Causes are compared for the events whose rows name them.
		withCause := map[string]bool{}
		for _, w := range sc.Want {
			if w.Cause != "" {
				withCause[w.Event] = true
			}
		}
		var got []Webhook
		for _, g := range res.Webhooks {
			w := Webhook{Event: string(g.Event.Type()), At: g.Path}
			if withCause[w.Event] {
				w.Cause = cause(g.Event)
			}
			got = append(got, w)
		}
		want := sc.Want
		if !slices.Equal(unordered(got, opts.AnyOrder), unordered(want, opts.AnyOrder)) {
			t.Errorf("the requests of README.md line %d: the app got\n\t%s\nwant (the README's table)\n\t%s",
				sc.Requests[0].Line, join(got), join(want))
		}
		for _, g := range res.Webhooks {
			if g.Status != http.StatusOK || g.Reply == "" {
				continue
			}
			c, err := canonical(g.Reply)
			if err != nil {
				t.Errorf("%s at %s: the app answered BXML that does not parse: %v\n%s", g.Event.Type(), g.Path, err, g.Reply)
				continue
			}
			c = strings.ReplaceAll(c, appAddr, appAddrPlaceholder)
			if c != "<Response/>" && !documents[c] {
				t.Errorf("%s at %s: the app answered BXML that %q does not show:\n%s", g.Event.Type(), g.Path, heading, g.Reply)
			}
		}
		results = append(results, res)
	}
	return srv, results
}

// NewRequest is the HTTP request the curl command sends, with the
// addresses in its URL and body replaced by replace (the README's
// ServerAddr and AppAddr by those a test runs on).
func (r Request) NewRequest(replace *strings.Replacer) (*http.Request, error) {
	req, err := http.NewRequest(r.Method, replace.Replace(r.URL), strings.NewReader(replace.Replace(r.Body)))
	if err != nil {
		return nil, err
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	if r.User != "" {
		user, pass, _ := strings.Cut(r.User, ":")
		req.SetBasicAuth(user, pass)
	}
	return req, nil
}

func join(ws []Webhook) string {
	var s []string
	for _, w := range ws {
		s = append(s, w.String())
	}
	return strings.Join(s, "\n\t")
}

// unordered sorts each run of neighbours whose events are in one set.
func unordered(ws []Webhook, sets [][]string) []Webhook {
	ws = slices.Clone(ws)
	for _, set := range sets {
		for i := 0; i < len(ws); {
			j := i
			for j < len(ws) && slices.Contains(set, ws[j].Event) {
				j++
			}
			if j > i {
				slices.SortFunc(ws[i:j], func(a, b Webhook) int { return strings.Compare(a.String(), b.String()) })
				i = j
			} else {
				i++
			}
		}
	}
	return ws
}

// cause is an event's cause, "" for events without one.
func cause(ev callback.Event) string {
	switch ev := ev.(type) {
	case *callback.Disconnect:
		return string(ev.Cause)
	case *callback.TransferComplete:
		return string(ev.Cause)
	case *callback.TransferDisconnect:
		return string(ev.Cause)
	case *callback.BridgeComplete:
		return string(ev.Cause)
	case *callback.MediaStreamStopped:
		return string(ev.Cause)
	case *callback.MediaStreamRejected:
		return string(ev.Cause)
	}
	return ""
}

// canonical is a BXML document as Marshal writes it.
func canonical(doc string) (string, error) {
	r, err := bxml.Parse([]byte(doc), bxml.CallContext)
	if err != nil {
		return "", err
	}
	b, err := r.Marshal()
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(string(b), `<?xml version="1.0" encoding="UTF-8"?>`), nil
}

// recorder serves the app and keeps each webhook with its reply.
type recorder struct {
	app    http.Handler
	notify chan struct{}
	mu     sync.Mutex
	got    []Got
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		rec.app.ServeHTTP(w, r) // a media stream's socket, not a webhook
		return
	}
	body, _ := io.ReadAll(r.Body)
	var ev callback.Event
	var err error
	if r.Method == http.MethodGet {
		ev, err = callback.DecodeQuery(r.URL.Query())
	} else {
		ev, err = callback.Decode(body)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	out := httptest.NewRecorder()
	rec.app.ServeHTTP(out, r)
	for k, v := range out.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(out.Code)
	w.Write(out.Body.Bytes())
	if err != nil {
		return // not a callback: voicehook sends none of those
	}
	rec.mu.Lock()
	rec.got = append(rec.got, Got{Path: r.URL.Path, Event: ev, Status: out.Code, Reply: out.Body.String()})
	rec.mu.Unlock()
	select {
	case rec.notify <- struct{}{}:
	default:
	}
}

func (rec *recorder) reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.got = nil
}

// waitFor waits until n webhooks came, or for timeout, and returns those
// that came.
func (rec *recorder) waitFor(n int, timeout time.Duration) []Got {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		rec.mu.Lock()
		got := slices.Clone(rec.got)
		rec.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-rec.notify:
		case <-deadline.C:
			return got
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
