package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// tapNetwork is the simulated network, with a tap on each call's events:
// the test can raise a call's phone events itself, as its far end would.
type tapNetwork struct {
	*sim.Network
	mu     sync.Mutex
	notify map[string]func(engine.PhoneEvent) // by the number dialled
}

func (n *tapNetwork) Dial(d engine.Dial, notify func(engine.PhoneEvent)) (engine.Line, error) {
	n.mu.Lock()
	n.notify[d.To] = notify
	n.mu.Unlock()
	return n.Network.Dial(d, notify)
}

// press raises digits on the call to number, one event each, back to back.
func (n *tapNetwork) press(number, digits string) {
	n.mu.Lock()
	notify := n.notify[number]
	n.mu.Unlock()
	for i := range len(digits) {
		notify(engine.PhoneEvent{Kind: engine.PhoneDigit, Digit: digits[i]})
	}
}

// heard is what the far end of a call heard, in order.
func heard(t *testing.T, h *harness, id string) string {
	t.Helper()
	hist, err := h.store.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range hist {
		if d, ok := strings.CutPrefix(e.Summary, "heard "); ok && e.Kind == "phone" {
			b.WriteString(d)
		}
	}
	return b.String()
}

// await polls, on the real clock, until ok holds or 10 s pass.
func await(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// digitRun is many digits in a pattern where any two swapped show.
func digitRun(n int) string {
	const keys = "0123456789*#ABCD"
	var b strings.Builder
	for i := range n {
		b.WriteByte(keys[i*7%len(keys)])
	}
	return b.String()
}

// TestRelayedDigitsKeepTheirOrder: digits pressed on one call of a bridge
// in quick succession reach the other call's far end in the order
// pressed. It runs on the real clock: the order must hold whatever the
// goroutines' scheduling.
func TestRelayedDigitsKeepTheirOrder(t *testing.T) {
	const target, origin = "+15553330410", "+15553330420"
	var mu sync.Mutex
	app := map[string]string{"https://app.test/target": `<Response><Pause duration="60"/></Response>`}
	scripts := map[string]sim.Script{target: {Ring: time.Millisecond}, origin: {Ring: time.Millisecond}}
	var tap *tapNetwork
	h := newHarnessWith(t, scripts, func(ev callback.Event, tg engine.Target) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		return replies(app)(ev, tg)
	}, func(cfg *engine.Config) {
		tap = &tapNetwork{Network: cfg.Network.(*sim.Network), notify: map[string]func(engine.PhoneEvent){}}
		cfg.Network = tap
	})
	defer h.close()
	tid := h.call(target, func(c *engine.Call) { c.AnswerURL = "https://app.test/target" })
	await(t, "the target answered", func() bool { return strings.Contains(phoneHistory(t, h, tid), "answered") })
	mu.Lock()
	app["https://app.test/origin"] = `<Response><Bridge>` + tid + `</Bridge></Response>`
	mu.Unlock()
	oid := h.call(origin, func(c *engine.Call) { c.AnswerURL = "https://app.test/origin" })
	await(t, "the bridge", func() bool {
		hist, _ := h.store.History(context.Background(), oid)
		for _, e := range hist {
			if strings.HasPrefix(e.Summary, "bridged with") {
				return true
			}
		}
		return false
	})
	want := digitRun(200) // fewer than maxRelayed: none may be dropped
	tap.press(origin, want)
	await(t, "the target's far end hears every digit", func() bool { return len(heard(t, h, tid)) >= len(want) })
	if got := heard(t, h, tid); got != want {
		t.Errorf("the target's far end heard\n %s\nwant\n %s", got, want)
	}
	if err := h.net.HangUp(oid); err != nil {
		t.Fatal(err)
	}
	await(t, "both calls end", func() bool { return h.eng.Live() == 0 })
}
