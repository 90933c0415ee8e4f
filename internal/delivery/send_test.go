package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestSendPostJSON(t *testing.T) {
	a := newApp(t, nil)
	s := newSender(t, Config{})
	w := webhook(engine.Target{URL: a.URL + "/answer"})

	reply, err := s.Send(t.Context(), w)
	if err != nil {
		t.Fatal(err)
	}
	if string(reply.Body) != okBXML {
		t.Errorf("Body = %q, want %q", reply.Body, okBXML)
	}
	if reply.URL != a.URL+"/answer" {
		t.Errorf("URL = %q", reply.URL)
	}
	want, _ := callback.Encode(w.Event)
	reqs := a.seen()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/answer" || r.ContentType != "application/json" ||
		r.UserAgent != "voicehook" || r.Auth != "" || r.RawQuery != "" {
		t.Errorf("request = %+v", r)
	}
	if !bytes.Equal(r.Body, want) {
		t.Errorf("body = %s, want %s", r.Body, want)
	}
	if len(reply.Attempts) != 1 {
		t.Fatalf("Attempts = %+v", reply.Attempts)
	}
	at := reply.Attempts[0]
	if at.URL != a.URL+"/answer" || at.Method != "POST" || at.Fallback || at.Status != 200 ||
		at.Err != "" || at.Latency <= 0 || at.Time.IsZero() {
		t.Errorf("attempt = %+v", at)
	}
}

func TestSendUserAgent(t *testing.T) {
	a := newApp(t, nil)
	s := newSender(t, Config{UserAgent: "voicehook-test/1"})
	if _, err := s.Send(t.Context(), webhook(engine.Target{URL: a.URL, Method: "post"})); err != nil {
		t.Fatal(err)
	}
	if r := a.seen()[0]; r.UserAgent != "voicehook-test/1" || r.Method != "POST" {
		t.Errorf("request = %+v", r)
	}
}

func TestSendGetQuery(t *testing.T) {
	a := newApp(t, nil)
	s := newSender(t, Config{})
	ev := answerEvent()
	ev.MachineDetectionResult = &callback.MachineDetectionResult{
		Value:    callback.Human,
		Duration: callback.Duration(2500 * time.Millisecond),
	}
	w := webhook(engine.Target{URL: a.URL + "/answer?app=1&x=a%20b", Method: "GET"})
	w.Event = ev

	reply, err := s.Send(t.Context(), w)
	if err != nil {
		t.Fatal(err)
	}
	if reply.URL != a.URL+"/answer?app=1&x=a%20b" {
		t.Errorf("URL = %q", reply.URL)
	}
	r := a.seen()[0]
	if r.Method != "GET" || len(r.Body) != 0 || r.ContentType != "" {
		t.Errorf("request = %+v", r)
	}
	if !strings.HasPrefix(r.RawQuery, "app=1&x=a%20b&") {
		t.Errorf("query %q does not keep the URL's own query first", r.RawQuery)
	}
	q, err := url.ParseQuery(r.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"app":                              "1",
		"x":                                "a b",
		"eventType":                        "answer",
		"callId":                           ev.CallID,
		"machineDetectionResult[value]":    "human",
		"machineDetectionResult[duration]": "PT2.5S",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// The app's parameters aside, the query decodes to the event sent.
	q.Del("app")
	q.Del("x")
	got, err := callback.DecodeQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	back, ok := got.(*callback.Answer)
	if !ok || back.MachineDetectionResult == nil || *back.MachineDetectionResult != *ev.MachineDetectionResult {
		t.Errorf("decoded %#v", got)
	}
}

func TestSendBasicAuthAndFallbackCredentials(t *testing.T) {
	primary := newApp(t, status(http.StatusInternalServerError))
	backup := newApp(t, nil)
	s := newSender(t, Config{})
	w := webhook(engine.Target{
		URL: primary.URL + "/answer", Username: "user", Password: "p:ss",
		FallbackURL: backup.URL + "/fallback", FallbackMethod: "GET",
		FallbackUsername: "fbuser", FallbackPassword: "fbpass",
	})

	reply, err := s.Send(t.Context(), w)
	if err != nil {
		t.Fatal(err)
	}
	if got := primary.seen(); len(got) != 1 || got[0].Auth != basic("user", "p:ss") {
		t.Errorf("primary saw %+v", got)
	}
	if got := backup.seen(); len(got) != 1 || got[0].Auth != basic("fbuser", "fbpass") ||
		got[0].Method != "GET" || got[0].Path != "/fallback" {
		t.Errorf("fallback saw %+v", got)
	}
	if reply.URL != backup.URL+"/fallback" || string(reply.Body) != okBXML {
		t.Errorf("reply = %q from %s", reply.Body, reply.URL)
	}
	want := []engine.Attempt{
		{URL: primary.URL + "/answer", Method: "POST", Status: 500, Err: "500 Internal Server Error", Outcome: engine.OutcomeHTTPError},
		{URL: backup.URL + "/fallback", Method: "GET", Fallback: true, Status: 200, Outcome: engine.OutcomeOK},
	}
	checkAttempts(t, reply.Attempts, want)
}

func TestSendNoCredentialsWithoutUsername(t *testing.T) {
	a := newApp(t, nil)
	s := newSender(t, Config{})
	// A password alone is not enough for Basic auth.
	if _, err := s.Send(t.Context(), webhook(engine.Target{URL: a.URL, Password: "x"})); err != nil {
		t.Fatal(err)
	}
	if r := a.seen()[0]; r.Auth != "" {
		t.Errorf("Authorization = %q", r.Auth)
	}
}

// checkAttempts compares attempts, ignoring Time and Latency (checked to be
// set).
func checkAttempts(t *testing.T, got, want []engine.Attempt) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d attempts, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range got {
		g := got[i]
		if g.Time.IsZero() || g.Latency < 0 {
			t.Errorf("attempt %d: Time %v, Latency %v", i, g.Time, g.Latency)
		}
		g.Time, g.Latency = time.Time{}, 0
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("attempt %d:\n got %+v\nwant %+v", i, g, want[i])
		}
	}
}

func TestSendConnectionRefusedRetriedOnceThenFallback(t *testing.T) {
	dead := closedURL(t)
	backup := newApp(t, nil)
	s := newSender(t, Config{})

	reply, err := s.Send(t.Context(), webhook(engine.Target{URL: dead, FallbackURL: backup.URL}))
	if err != nil {
		t.Fatal(err)
	}
	checkAttempts(t, reply.Attempts, []engine.Attempt{
		{URL: dead, Method: "POST", Err: "connection refused", Outcome: engine.OutcomeConnectionError},
		{URL: dead, Method: "POST", Err: "connection refused", Outcome: engine.OutcomeConnectionError},
		{URL: backup.URL, Method: "POST", Fallback: true, Status: 200, Outcome: engine.OutcomeOK},
	})
	if reply.URL != backup.URL {
		t.Errorf("URL = %q", reply.URL)
	}
}

func TestSendConnectionClosedBeforeResponseRetriedOnce(t *testing.T) {
	hangup := newApp(t, func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	backup := newApp(t, nil)
	s := newSender(t, Config{})

	reply, err := s.Send(t.Context(), webhook(engine.Target{URL: hangup.URL, FallbackURL: backup.URL}))
	if err != nil {
		t.Fatal(err)
	}
	if n := hangup.hits(); n != 2 {
		t.Errorf("primary hit %d times, want 2", n)
	}
	checkAttempts(t, reply.Attempts, []engine.Attempt{
		{URL: hangup.URL, Method: "POST", Err: "connection closed before a response", Outcome: engine.OutcomeConnectionError},
		{URL: hangup.URL, Method: "POST", Err: "connection closed before a response", Outcome: engine.OutcomeConnectionError},
		{URL: backup.URL, Method: "POST", Fallback: true, Status: 200, Outcome: engine.OutcomeOK},
	})
}

func TestSendTimeoutGoesToFallbackWithoutRetry(t *testing.T) {
	slow, _ := newBlocking(t)
	backup := newApp(t, nil)
	s := newSender(t, Config{})
	w := webhook(engine.Target{URL: slow.URL, FallbackURL: backup.URL})
	w.Timeout = 50 * time.Millisecond

	reply, err := s.Send(t.Context(), w)
	if err != nil {
		t.Fatal(err)
	}
	if n := slow.hits(); n != 1 {
		t.Errorf("slow primary hit %d times, want 1", n)
	}
	checkAttempts(t, reply.Attempts, []engine.Attempt{
		{URL: slow.URL, Method: "POST", Err: "timeout after 50ms", Outcome: engine.OutcomeTimeout},
		{URL: backup.URL, Method: "POST", Fallback: true, Status: 200, Outcome: engine.OutcomeOK},
	})
	if l := reply.Attempts[0].Latency; l < 50*time.Millisecond {
		t.Errorf("timed out after %v", l)
	}
}

func TestSendSlowReplyBodyTimesOut(t *testing.T) {
	// Headers arrive at once, the body never: the timeout covers reading it.
	a := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "<Response>")
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	s := newSender(t, Config{})
	w := webhook(engine.Target{URL: a.URL})
	w.Timeout = 50 * time.Millisecond

	_, err := s.Send(t.Context(), w)
	var de *engine.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *DeliveryError", err)
	}
	checkAttempts(t, de.Attempts, []engine.Attempt{
		{URL: a.URL, Method: "POST", Status: 200, Err: "reading reply: timeout after 50ms", Outcome: engine.OutcomeTimeout},
	})
}

func TestSendAllFail(t *testing.T) {
	primary := newApp(t, status(http.StatusInternalServerError))
	dead := closedURL(t)
	s := newSender(t, Config{})

	reply, err := s.Send(t.Context(), webhook(engine.Target{URL: primary.URL + "/answer", FallbackURL: dead}))
	var de *engine.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *DeliveryError", err)
	}
	wantReason := "POST " + primary.URL + "/answer: 500 Internal Server Error; " +
		"fallback POST " + dead + ": connection refused (retried once)"
	if de.Reason != wantReason || err.Error() != wantReason {
		t.Errorf("Reason = %q\n want %q", de.Reason, wantReason)
	}
	want := []engine.Attempt{
		{URL: primary.URL + "/answer", Method: "POST", Status: 500, Err: "500 Internal Server Error", Outcome: engine.OutcomeHTTPError},
		{URL: dead, Method: "POST", Fallback: true, Err: "connection refused", Outcome: engine.OutcomeConnectionError},
		{URL: dead, Method: "POST", Fallback: true, Err: "connection refused", Outcome: engine.OutcomeConnectionError},
	}
	checkAttempts(t, de.Attempts, want)
	checkAttempts(t, reply.Attempts, want)
	if reply.Body != nil || reply.URL != "" {
		t.Errorf("reply = %+v", reply)
	}
}

func TestSendFailsWithoutFallback(t *testing.T) {
	primary := newApp(t, status(http.StatusNotFound))
	s := newSender(t, Config{})

	_, err := s.Send(t.Context(), webhook(engine.Target{URL: primary.URL}))
	var de *engine.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *DeliveryError", err)
	}
	if want := "POST " + primary.URL + ": 404 Not Found"; de.Reason != want {
		t.Errorf("Reason = %q, want %q", de.Reason, want)
	}
}

func TestSendEmptyReplyIsSuccess(t *testing.T) {
	for _, code := range []int{http.StatusOK, http.StatusCreated, http.StatusNoContent} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			a := newApp(t, status(code))
			s := newSender(t, Config{})
			reply, err := s.Send(t.Context(), webhook(engine.Target{URL: a.URL}))
			if err != nil {
				t.Fatal(err)
			}
			if len(reply.Body) != 0 || reply.URL != a.URL || reply.Attempts[0].Status != code {
				t.Errorf("reply = %+v", reply)
			}
		})
	}
}

func TestSendReplyCutAtMaxReply(t *testing.T) {
	tests := []struct {
		name     string
		maxReply int64
		size     int
		want     int
	}{
		{"default, too large", 0, bxml.MaxSize + 1000, bxml.MaxSize + 1},
		{"default, at the limit", 0, bxml.MaxSize, bxml.MaxSize},
		{"small", 10, 100, 10},
		{"huge reply", 10, 4 << 20, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("x"), tt.size)
			a := newApp(t, func(w http.ResponseWriter, _ *http.Request) { w.Write(body) })
			s := newSender(t, Config{MaxReply: tt.maxReply})
			reply, err := s.Send(t.Context(), webhook(engine.Target{URL: a.URL}))
			if err != nil {
				t.Fatal(err)
			}
			if len(reply.Body) != tt.want || !bytes.Equal(reply.Body, body[:tt.want]) {
				t.Errorf("got %d bytes, want the first %d", len(reply.Body), tt.want)
			}
		})
	}
}

func TestSendRedirectNotFollowed(t *testing.T) {
	elsewhere := newApp(t, nil)
	redirecting := newApp(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/other", http.StatusFound)
	})
	backup := newApp(t, nil)
	s := newSender(t, Config{})

	reply, err := s.Send(t.Context(), webhook(engine.Target{URL: redirecting.URL, FallbackURL: backup.URL}))
	if err != nil {
		t.Fatal(err)
	}
	if n := elsewhere.hits(); n != 0 {
		t.Errorf("redirect followed: target hit %d times", n)
	}
	checkAttempts(t, reply.Attempts, []engine.Attempt{
		{URL: redirecting.URL, Method: "POST", Status: 302,
			Err: "302 Found: redirect to " + elsewhere.URL + "/other not followed", Outcome: engine.OutcomeHTTPError},
		{URL: backup.URL, Method: "POST", Fallback: true, Status: 200, Outcome: engine.OutcomeOK},
	})

	// A given client that follows redirects does not, here.
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	s = newSender(t, Config{Client: client})
	_, err = s.Send(t.Context(), webhook(engine.Target{URL: redirecting.URL}))
	if !errors.As(err, new(*engine.DeliveryError)) {
		t.Errorf("err = %v, want a *DeliveryError", err)
	}
	if n := elsewhere.hits(); n != 0 {
		t.Errorf("redirect followed with a given client: target hit %d times", n)
	}
}

func TestSendRedactsPasswordInURL(t *testing.T) {
	a := newApp(t, status(http.StatusUnauthorized))
	s := newSender(t, Config{})
	u := strings.Replace(a.URL, "http://", "http://me:secret@", 1)

	_, err := s.Send(t.Context(), webhook(engine.Target{URL: u}))
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "http://me:*****@") {
		t.Errorf("err = %v, want the URL with its password as *****", err)
	}
	if r := a.seen()[0]; r.Auth != basic("me", "secret") {
		t.Errorf("Authorization = %q, want the URL's user info", r.Auth)
	}
}

func TestSendInvalidTargets(t *testing.T) {
	backup := newApp(t, nil)
	tests := []struct {
		name   string
		target engine.Target
		reason string
	}{
		{"no URL", engine.Target{}, `POST "": no URL`},
		{"scheme", engine.Target{URL: "ftp://example.com/x"}, "POST ftp://example.com/x: invalid URL: scheme must be http or https"},
		{"no host", engine.Target{URL: "http:///answer"}, "POST http:///answer: invalid URL: no host"},
		{"relative", engine.Target{URL: "/answer"}, "POST /answer: invalid URL: scheme must be http or https"},
		{"control character", engine.Target{URL: "http://example.com/\nx"},
			`POST "http://example.com/\nx": invalid URL: net/url: invalid control character in URL`},
		{"password that breaks the URL", engine.Target{URL: "http://u:pa/ss@example.com/x"},
			`POST "http://u:*****@example.com/x": invalid URL: it does not parse (the details are not shown, as it holds credentials)`},
		{"method", engine.Target{URL: backup.URL, Method: "PUT"}, "PUT " + backup.URL + `: unsupported method "PUT"`},
		{"fallback method", engine.Target{URL: "", FallbackURL: backup.URL, FallbackMethod: "DELETE"},
			`POST "": no URL; fallback DELETE ` + backup.URL + `: unsupported method "DELETE"`},
	}
	s := newSender(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Send(t.Context(), webhook(tt.target))
			var de *engine.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DeliveryError", err)
			}
			if de.Reason != tt.reason {
				t.Errorf("Reason = %q\n want %q", de.Reason, tt.reason)
			}
			for _, a := range de.Attempts {
				if a.Status != 0 || a.Err == "" || strings.ContainsAny(a.Err, "\r\n") {
					t.Errorf("attempt %+v", a)
				}
			}
		})
	}
	if n := backup.hits(); n != 0 {
		t.Errorf("backup hit %d times", n)
	}
}

func TestSendBadEvent(t *testing.T) {
	a := newApp(t, nil)
	s := newSender(t, Config{})
	for _, ev := range []callback.Event{nil, (*callback.Answer)(nil)} {
		for _, m := range []string{"POST", "GET"} {
			reply, err := s.Send(t.Context(), engine.Webhook{Event: ev, Target: engine.Target{URL: a.URL, Method: m}})
			if err == nil || errors.As(err, new(*engine.DeliveryError)) || len(reply.Attempts) != 0 {
				t.Errorf("%s %T: reply %+v, err %v", m, ev, reply, err)
			}
		}
	}
	if n := a.hits(); n != 0 {
		t.Errorf("app hit %d times", n)
	}
}

func TestSendCallerCancels(t *testing.T) {
	slow, b := newBlocking(t)
	backup := newApp(t, nil)
	s := newSender(t, Config{})
	ctx, cancel := context.WithCancel(t.Context())

	var reply engine.Reply
	var err error
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		reply, err = s.Send(ctx, webhook(engine.Target{URL: slow.URL, FallbackURL: backup.URL}))
	}()
	b.waitEntered(t)
	cancel()
	<-finished

	if !errors.Is(err, context.Canceled) || errors.As(err, new(*engine.DeliveryError)) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	checkAttempts(t, reply.Attempts, []engine.Attempt{
		{URL: slow.URL, Method: "POST", Err: "canceled: context canceled", Outcome: engine.OutcomeCanceled},
	})
	if n := backup.hits(); n != 0 {
		t.Errorf("fallback tried after the caller gave up")
	}
}

func TestSendConcurrent(t *testing.T) {
	a := newApp(t, nil)
	s := newSender(t, Config{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := s.Send(t.Context(), webhook(engine.Target{URL: a.URL})); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := a.hits(); n != 20 {
		t.Errorf("app hit %d times, want 20", n)
	}
}

func TestSendReplyCutShort(t *testing.T) {
	// A 2xx whose body ends early is a failure, not retried: the app did
	// answer.
	a := newApp(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "<Response>")
		http.NewResponseController(w).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	s := newSender(t, Config{})
	_, err := s.Send(t.Context(), webhook(engine.Target{URL: a.URL}))
	var de *engine.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *DeliveryError", err)
	}
	checkAttempts(t, de.Attempts, []engine.Attempt{
		{URL: a.URL, Method: "POST", Status: 200, Err: "reading reply: unexpected EOF", Outcome: engine.OutcomeConnectionError},
	})
}

// A failed response's body is kept, up to 4 KB: the console shows what
// the app said went wrong.
func TestSendKeepsWhatAFailureSaid(t *testing.T) {
	primary := newApp(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "panic: nil map\n"+strings.Repeat("x", 10000))
	})
	s := newSender(t, Config{})
	_, err := s.Send(t.Context(), webhook(engine.Target{URL: primary.URL + "/answer"}))
	var de *engine.DeliveryError
	if !errors.As(err, &de) || len(de.Attempts) != 1 {
		t.Fatalf("err = %v", err)
	}
	if r := de.Attempts[0].Reply; len(r) != 4096 || !strings.HasPrefix(string(r), "panic: nil map\n") {
		t.Errorf("kept %d bytes: %.40q", len(r), r)
	}
}
