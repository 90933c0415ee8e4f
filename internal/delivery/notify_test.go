package delivery

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

func TestNotifyRetryRule(t *testing.T) {
	dead := closedURL(t)
	failing := newApp(t, status(http.StatusInternalServerError))
	ok := newApp(t, status(http.StatusNoContent))
	backup := newApp(t, nil)
	tests := []struct {
		name string
		url  string
		want []engine.Attempt
	}{
		{"connection error retried once", dead, []engine.Attempt{
			{URL: dead, Method: "POST", Err: "connection refused", Outcome: engine.OutcomeConnectionError},
			{URL: dead, Method: "POST", Err: "connection refused", Outcome: engine.OutcomeConnectionError},
		}},
		{"500 not retried", failing.URL, []engine.Attempt{
			{URL: failing.URL, Method: "POST", Status: 500, Err: "500 Internal Server Error", Outcome: engine.OutcomeHTTPError},
		}},
		{"success", ok.URL, []engine.Attempt{
			{URL: ok.URL, Method: "POST", Status: 204, Outcome: engine.OutcomeOK},
		}},
	}
	s := newSender(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan []engine.Attempt, 1)
			// The fallback is ignored: async webhooks have none.
			w := webhook(engine.Target{URL: tt.url, FallbackURL: backup.URL})
			if err := s.Notify(t.Context(), w, func(a []engine.Attempt) { done <- a }); err != nil {
				t.Fatal(err)
			}
			checkAttempts(t, waitDone(t, done), tt.want)
		})
	}
	if n := failing.hits(); n != 1 {
		t.Errorf("failing app hit %d times, want 1", n)
	}
	if n := backup.hits(); n != 0 {
		t.Errorf("fallback hit %d times, want 0", n)
	}
}

func TestNotifyOutlivesCallerContext(t *testing.T) {
	a, b := newBlocking(t)
	s := newSender(t, Config{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan []engine.Attempt, 1)
	ev := &callback.Disconnect{Call: answerEvent().Call, Outcome: callback.Outcome{Cause: callback.CauseHangup}}

	err := s.Notify(ctx, engine.Webhook{Event: ev, Target: engine.Target{URL: a.URL, Method: "GET"}},
		func(a []engine.Attempt) { done <- a })
	if err != nil {
		t.Fatal(err)
	}
	b.waitEntered(t)
	cancel()
	b.Release()
	checkAttempts(t, waitDone(t, done), []engine.Attempt{{URL: a.URL, Method: "GET", Status: 200, Outcome: engine.OutcomeOK}})
	if q := a.seen()[0].RawQuery; !strings.Contains(q, "eventType=disconnect") || !strings.Contains(q, "cause=hangup") {
		t.Errorf("query = %q", q)
	}
}

func TestNotifyBusy(t *testing.T) {
	a, b := newBlocking(t)
	s := newSender(t, Config{MaxInFlight: 1})
	done := make(chan []engine.Attempt, 2)
	record := func(a []engine.Attempt) { done <- a }

	if err := s.Notify(t.Context(), webhook(engine.Target{URL: a.URL}), record); err != nil {
		t.Fatal(err)
	}
	b.waitEntered(t)

	// Full: a context already done means "do not wait".
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Notify(ctx, webhook(engine.Target{URL: a.URL}), record)
	if !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want ErrBusy and context.Canceled", err)
	}

	// A waiting Notify gets the slot when the first delivery ends.
	queued := make(chan error, 1)
	go func() { queued <- s.Notify(t.Context(), webhook(engine.Target{URL: a.URL}), record) }()
	b.Release()
	if err := <-queued; err != nil {
		t.Fatal(err)
	}
	waitDone(t, done)
	waitDone(t, done)
	if n := a.hits(); n != 2 {
		t.Errorf("app hit %d times, want 2", n)
	}
}

func TestNotifyBadEvent(t *testing.T) {
	a := newApp(t, nil)
	s := newSender(t, Config{})
	called := false
	err := s.Notify(t.Context(), engine.Webhook{Target: engine.Target{URL: a.URL}}, func([]engine.Attempt) { called = true })
	if err == nil {
		t.Error("Notify accepted a nil event")
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if called || a.hits() != 0 {
		t.Errorf("done called %v, app hit %d times", called, a.hits())
	}
}

func TestNotifyFailureLoggedWithoutDone(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	failing := newApp(t, status(http.StatusBadGateway))
	s := New(Config{Logger: logger})

	w := webhook(engine.Target{URL: failing.URL})
	w.CallID = "c-logged"
	if err := s.Notify(t.Context(), w, nil); err != nil {
		t.Fatal(err)
	}
	// Close waits for the delivery, so the log is written when it returns.
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"level=WARN", "call_id=c-logged", "event=answer", "502 Bad Gateway"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}

func TestCloseWaitsThenRefuses(t *testing.T) {
	a, b := newBlocking(t)
	s := New(Config{})
	done := make(chan []engine.Attempt, 1)
	if err := s.Notify(t.Context(), webhook(engine.Target{URL: a.URL}), func(a []engine.Attempt) { done <- a }); err != nil {
		t.Fatal(err)
	}
	b.waitEntered(t)

	closed := make(chan error, 1)
	go func() { closed <- s.Close(t.Context()) }()

	// Close has begun; it must still be waiting, as the delivery has not
	// been answered, and Notify must refuse.
	poll(t, "Close to begin", s.isClosed)
	if err := s.Notify(t.Context(), webhook(engine.Target{URL: a.URL}), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Notify after Close = %v, want ErrClosed", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned %v before the delivery ended", err)
	case <-done:
		t.Fatal("delivery ended before it was answered")
	default:
	}

	b.Release()
	checkAttempts(t, waitDone(t, done), []engine.Attempt{{URL: a.URL, Method: "POST", Status: 200, Outcome: engine.OutcomeOK}})
	if err := <-closed; err != nil {
		t.Errorf("Close = %v", err)
	}
	if _, err := s.Send(t.Context(), webhook(engine.Target{URL: a.URL})); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if n := a.hits(); n != 1 {
		t.Errorf("app hit %d times, want 1", n)
	}
}

func TestCloseCancelsWhenContextEnds(t *testing.T) {
	a, b := newBlocking(t)
	s := New(Config{})
	done := make(chan []engine.Attempt, 1)
	if err := s.Notify(t.Context(), webhook(engine.Target{URL: a.URL}), func(a []engine.Attempt) { done <- a }); err != nil {
		t.Fatal(err)
	}
	b.waitEntered(t)
	sendErr := make(chan error, 1)
	go func() {
		_, err := s.Send(context.Background(), webhook(engine.Target{URL: a.URL}))
		sendErr <- err
	}()
	b.waitEntered(t)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want DeadlineExceeded", err)
	}
	// Close returned: the delivery has ended and done has been called.
	select {
	case got := <-done:
		checkAttempts(t, got, []engine.Attempt{
			{URL: a.URL, Method: "POST", Err: "canceled: delivery: sender closed", Outcome: engine.OutcomeCanceled},
		})
	default:
		t.Fatal("done not called before Close returned")
	}
	if err := <-sendErr; !errors.Is(err, ErrClosed) {
		t.Errorf("Send = %v, want ErrClosed", err)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		ok := newApp(t, nil)
		failing := newApp(t, status(http.StatusServiceUnavailable))
		slow, b := newBlocking(t)
		dead := closedURL(t)
		s := New(Config{})

		if _, err := s.Send(t.Context(), webhook(engine.Target{URL: dead, FallbackURL: ok.URL})); err != nil {
			t.Error(err)
		}
		w := webhook(engine.Target{URL: slow.URL, FallbackURL: failing.URL})
		w.Timeout = 20 * time.Millisecond
		if _, err := s.Send(t.Context(), w); err == nil {
			t.Error("Send succeeded")
		}
		done := make(chan []engine.Attempt, 3)
		for _, u := range []string{ok.URL, dead, slow.URL} {
			if err := s.Notify(t.Context(), webhook(engine.Target{URL: u}), func(a []engine.Attempt) { done <- a }); err != nil {
				t.Error(err)
			}
		}
		waitDone(t, done)
		waitDone(t, done)
		b.waitEntered(t) // the slow Send's request
		b.waitEntered(t) // the slow notification
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		if err := s.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Close = %v", err)
		}
		waitDone(t, done)
		b.Release()
		for _, a := range []*app{ok, failing, slow} {
			a.Close()
		}
	}()

	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf)
		}
		<-tick.C
	}
}
