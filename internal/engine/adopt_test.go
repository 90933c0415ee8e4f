package engine_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// enderNetwork is a simulated network that can also end dialogs from
// their stored state, and remembers which.
type enderNetwork struct {
	*sim.Network
	mu    sync.Mutex
	ended []string
}

func (n *enderNetwork) EndDialog(_ context.Context, dialog []byte) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ended = append(n.ended, string(dialog))
	return nil
}

// TestAdopt: an engine adopts the calls of another that died. The webhook
// the dead engine had queued is delivered, then each live call gets its one
// disconnect, cause error, saying why; a call with a stored dialog has it
// ended, once, and its history says so.
func TestAdopt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore()
		net := &enderNetwork{Network: sim.New(engine.RealClock{}, nil)}
		a := &app{start: time.Now(), handle: replies(nil)}
		cfg := engine.Config{Clock: engine.RealClock{}, Store: store, Sender: a, Network: net, BaseURL: "http://voicehook.test/api/v2"}
		survivor, err := engine.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := survivor.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer survivor.Shutdown(context.Background())

		// The node that dies: its sender never delivers an asynchronous
		// webhook, and its calls wait in a long pause.
		stall := &stallSender{}
		dying := cfg
		dying.Sender = stall
		dying.Network = sim.New(engine.RealClock{}, nil)
		dead, err := engine.New(dying)
		if err != nil {
			t.Fatal(err)
		}
		dead.Start(context.Background())
		ended, err := dead.CreateCall(context.Background(), engine.Call{AccountID: "9900000", ApplicationID: "app-1",
			From: "+15551112222", To: "+15550000000", AnswerURL: "https://app.test/answer", DisconnectURL: "https://app.test/disconnect"})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute) // answered, hung up: its disconnect stays queued
		synctest.Wait()
		stall.mu.Lock()
		stall.got = nil
		stall.mu.Unlock()
		pausing := &stallPause{}
		dying.Sender = pausing
		_ = dead.Shutdown(context.Background())
		dead, err = engine.New(dying)
		if err != nil {
			t.Fatal(err)
		}
		live := make([]string, 2)
		for i := range live {
			c, err := dead.CreateCall(context.Background(), engine.Call{AccountID: "9900000", ApplicationID: "app-1",
				From: "+15551112222", To: "+15550000000", AnswerURL: "https://app.test/answer", DisconnectURL: "https://app.test/disconnect"})
			if err != nil {
				t.Fatal(err)
			}
			live[i] = c.CallID
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		_ = dead.Shutdown(context.Background()) // it dies: its calls stay live in the store
		// The first live call's line had left its dialog.
		c, err := store.GetCall(context.Background(), "9900000", live[0])
		if err != nil || c.State != engine.StateAnswered {
			t.Fatalf("call %s before the adoption: %+v, %v; want it answered", live[0], c, err)
		}
		c.Dialog = []byte(`{"callId":"one"}`)
		if err := store.SaveCall(context.Background(), c); err != nil {
			t.Fatal(err)
		}

		queued, _ := store.Queued(context.Background())
		calls, _ := store.LiveCalls(context.Background())
		if len(queued) != 1 || len(calls) != 2 {
			t.Fatalf("left by the dead node: %d webhooks and %d calls; want 1 and 2", len(queued), len(calls))
		}
		survivor.Adopt(calls, queued, "voicehook node n-2 failed (its lease expired); node n-1 ended the call")
		time.Sleep(time.Minute)
		synctest.Wait()

		got := a.events()
		if len(got) != 3 {
			t.Fatalf("the survivor sent:\n%s\nwant 3 disconnects", summary(got))
		}
		// Each call has its own queue: the order holds within a call.
		seen := map[string]int{}
		for _, d := range got {
			ev, ok := d.event.(*callback.Disconnect)
			if !ok {
				t.Fatalf("webhook %s; want disconnects only", summary([]delivered{d}))
			}
			seen[ev.CallID]++
			if ev.CallID == ended.CallID {
				if ev.Cause != callback.CauseHangup {
					t.Errorf("the queued disconnect of %s: cause %s; want hangup, as queued", ev.CallID, ev.Cause)
				}
				continue
			}
			if ev.Cause != callback.CauseError || ev.ErrorMessage == nil || !strings.Contains(*ev.ErrorMessage, "node n-2 failed") {
				t.Errorf("call %s: cause %s, %v; want error naming the failed node", ev.CallID, ev.Cause, ev.ErrorMessage)
			}
		}
		if seen[ended.CallID] != 1 || seen[live[0]] != 1 || seen[live[1]] != 1 {
			t.Errorf("disconnects per call: %v; want one each of %s and %v", seen, ended.CallID, live)
		}
		net.mu.Lock()
		endedDialogs := net.ended
		net.mu.Unlock()
		if len(endedDialogs) != 1 || endedDialogs[0] != `{"callId":"one"}` {
			t.Errorf("dialogs ended: %q; want the first call's alone", endedDialogs)
		}
		history, _ := store.History(context.Background(), live[0])
		var bye bool
		for _, h := range history {
			bye = bye || strings.HasPrefix(h.Summary, "BYE")
		}
		if !bye {
			t.Errorf("call %s's history has no BYE", live[0])
		}
	})
}

// stallPause answers every call with a long pause and never delivers an
// asynchronous webhook.
type stallPause struct{ stallSender }

func (s *stallPause) Send(_ context.Context, w engine.Webhook) (engine.Reply, error) {
	return engine.Reply{Body: []byte(`<Response><Pause duration="600"/></Response>`), URL: w.Target.URL}, nil
}

// notOwner answers calls at once and refuses every asynchronous webhook:
// its node lost the call.
type notOwner struct{}

func (notOwner) Send(_ context.Context, w engine.Webhook) (engine.Reply, error) {
	return engine.Reply{Body: []byte(hangup), URL: w.Target.URL}, nil
}

func (notOwner) Notify(context.Context, engine.Webhook, func([]engine.Attempt)) error {
	return fmt.Errorf("node lost its lease: %w", engine.ErrNotOwner)
}

// TestNotOwnerKeepsWebhooks: a webhook the sender refuses because the
// engine no longer owns the call stays queued in the store, for the engine
// that adopted the call.
func TestNotOwnerKeepsWebhooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore()
		eng, err := engine.New(engine.Config{Clock: engine.RealClock{}, Store: store, Sender: notOwner{},
			Network: sim.New(engine.RealClock{}, nil), BaseURL: "http://voicehook.test/api/v2"})
		if err != nil {
			t.Fatal(err)
		}
		eng.Start(context.Background())
		defer eng.Shutdown(context.Background())
		c, err := eng.CreateCall(context.Background(), engine.Call{AccountID: "9900000", ApplicationID: "app-1",
			From: "+15551112222", To: "+15550000000", AnswerURL: "https://app.test/answer", DisconnectURL: "https://app.test/disconnect"})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		queued, _ := store.Queued(context.Background())
		if len(queued) != 1 || queued[0].CallID != c.CallID {
			t.Fatalf("queued after the refusal: %+v; want the call's disconnect, kept", queued)
		}
	})
}
