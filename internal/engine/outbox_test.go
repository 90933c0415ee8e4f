package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// TestWebhookIDs: every webhook leaves the engine with an id of its own
// and its call's account and application, and a webhook retried by the
// outbox keeps its id.
func TestWebhookIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore()
		a := &app{start: time.Now(), handle: replies(map[string]string{"https://app.test/answer": hangup}), failures: 1}
		eng, err := engine.New(engine.Config{Clock: engine.RealClock{}, Store: store, Sender: a,
			Network: sim.New(engine.RealClock{}, nil), BaseURL: "http://voicehook.test/api/v2", RetryWebhooks: true})
		if err != nil {
			t.Fatal(err)
		}
		eng.Start(context.Background())
		defer eng.Shutdown(context.Background())
		const appID = "04e88489-df02-4e34-a0ee-27a91849555f"
		if _, err := eng.CreateCall(context.Background(), engine.Call{AccountID: "9900000", ApplicationID: appID,
			From: "+15551112222", To: "+15550000000", AnswerURL: "https://app.test/answer", DisconnectURL: "https://app.test/disconnect"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		got := a.events()
		if len(got) != 3 || got[0].event.Type() != callback.EventAnswer || got[1].event.Type() != callback.EventDisconnect ||
			got[2].event.Type() != callback.EventDisconnect {
			t.Fatalf("webhooks:\n%s\nwant answer, then disconnect twice (one failure, one retry)", summary(got))
		}
		answer, first, retry := got[0].hook, got[1].hook, got[2].hook
		if answer.ID == "" || first.ID == "" || answer.ID == first.ID {
			t.Errorf("ids: answer %q, disconnect %q; want two different ids", answer.ID, first.ID)
		}
		if retry.ID != first.ID {
			t.Errorf("the retried disconnect has id %q, the first attempt %q", retry.ID, first.ID)
		}
		for _, w := range []engine.Webhook{answer, first} {
			if w.AccountID != "9900000" || w.ApplicationID != appID {
				t.Errorf("%s is of account %q, application %q", w.Event.Type(), w.AccountID, w.ApplicationID)
			}
		}
	})
}

// stallSender takes asynchronous webhooks and never finishes delivering
// them, as when the engine stops mid-delivery; it answers synchronous ones
// with <Hangup/>.
type stallSender struct {
	mu  sync.Mutex
	got []engine.Webhook
}

func (s *stallSender) Send(_ context.Context, w engine.Webhook) (engine.Reply, error) {
	s.mu.Lock()
	s.got = append(s.got, w)
	s.mu.Unlock()
	return engine.Reply{Body: []byte(hangup), URL: w.Target.URL}, nil
}

func (s *stallSender) Notify(_ context.Context, w engine.Webhook, _ func([]engine.Attempt)) error {
	s.mu.Lock()
	s.got = append(s.got, w)
	s.mu.Unlock()
	return nil
}

// TestRedeliveryKeepsTheWebhookID: a disconnect in flight when the engine
// stops stays queued with its id, and the next engine sends it with the
// same id, account and application.
func TestRedeliveryKeepsTheWebhookID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore()
		stall := &stallSender{}
		cfg := engine.Config{Clock: engine.RealClock{}, Store: store, Sender: stall,
			Network: sim.New(engine.RealClock{}, nil), BaseURL: "http://voicehook.test/api/v2"}
		first, err := engine.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		first.Start(context.Background())
		if _, err := first.CreateCall(context.Background(), engine.Call{AccountID: "9900000", ApplicationID: "04e88489-df02-4e34-a0ee-27a91849555f",
			From: "+15551112222", To: "+15550000000", AnswerURL: "https://app.test/answer", DisconnectURL: "https://app.test/disconnect"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if err := first.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		stall.mu.Lock()
		sent := stall.got
		stall.mu.Unlock()
		if len(sent) != 2 || sent[1].Event.Type() != callback.EventDisconnect {
			t.Fatalf("before the stop the engine sent %d webhooks, want answer and disconnect", len(sent))
		}
		queued, _ := store.Queued(context.Background())
		if len(queued) != 1 || queued[0].EventID != sent[1].ID {
			t.Fatalf("queued after the stop: %+v; want the disconnect with id %q", queued, sent[1].ID)
		}

		a := &app{start: time.Now(), handle: replies(nil)}
		cfg.Sender = a
		second, err := engine.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		second.Start(context.Background())
		defer second.Shutdown(context.Background())
		time.Sleep(time.Second)
		synctest.Wait()
		got := a.events()
		if len(got) != 1 || got[0].event.Type() != callback.EventDisconnect {
			t.Fatalf("after the restart:\n%s\nwant the disconnect", summary(got))
		}
		if w := got[0].hook; w.ID != sent[1].ID || w.AccountID != sent[1].AccountID || w.ApplicationID != sent[1].ApplicationID {
			t.Errorf("redelivered as id %q of %s/%s; first sent as %q of %s/%s",
				w.ID, w.AccountID, w.ApplicationID, sent[1].ID, sent[1].AccountID, sent[1].ApplicationID)
		}
	})
}

// refusingSender stands for a Sender whose outbound guard refuses one
// host: every asynchronous webhook to it fails at once with the outcome
// "refused"; everything else goes to the app.
type refusingSender struct {
	*app
	host string // such as "https://refused.test/"
}

func (s refusingSender) Notify(ctx context.Context, w engine.Webhook, done func([]engine.Attempt)) error {
	if !strings.HasPrefix(w.Target.URL, s.host) {
		return s.app.Notify(ctx, w, done)
	}
	s.record(w)
	if done != nil {
		// A fake sender's message: 10.0.0.1 is text here, never dialled.
		done([]engine.Attempt{{URL: w.Target.URL, Outcome: engine.OutcomeRefused,
			Err: "refused to connect to 10.0.0.1:443: private addresses are not allowed for outbound requests (allow with --webhook-allow 10.0.0.1/32)"}}) // only parsed or refused by the guard: never dialled
	}
	return nil
}

// TestRefusedWebhookNotRetried: with RetryWebhooks on, a webhook whose
// address the guard refuses is tried once and given up, so the call's
// disconnect, queued behind it, still goes out on time.
func TestRefusedWebhookNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &lockedBuffer{}
		h := newHarnessWith(t, nil, replies(map[string]string{"https://app.test/answer": `<Response><Pause duration="30"/></Response>`}),
			func(cfg *engine.Config) {
				cfg.RetryWebhooks = true
				cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
				cfg.Sender = refusingSender{app: cfg.Sender.(*app), host: "https://refused.test/"}
			})
		defer h.close()
		h.call("+15550000801", func(call *engine.Call) {
			md := engine.DefaultMachineDetection()
			md.Callback = engine.Target{URL: "https://refused.test/amd"}
			call.MachineDetection = &md
		})
		h.settle(time.Hour)
		time.Sleep(time.Hour)
		synctest.Wait()
		want := "answer@1s\nmachineDetectionComplete@7.5s\ndisconnect@31s cause=hangup\n"
		if got := summary(h.app.events()); got != want {
			t.Errorf("webhooks:\n%s\nwant:\n%s(the refused machineDetectionComplete once, then the disconnect)", got, want)
		}
		if q, _ := h.store.Queued(context.Background()); len(q) != 0 {
			t.Errorf("%d webhooks still queued", len(q))
		}
		if got := logs.String(); strings.Count(got, "level=WARN msg=\"webhook not delivered\"") != 1 || !strings.Contains(got, "--webhook-allow 10.0.0.1/32") { // only parsed or refused by the guard: never dialled
			t.Errorf("warnings:\n%s\nwant one: webhook not delivered, naming --webhook-allow", got)
		}
	})
}

// lockedBuffer is a log destination safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
