package engine_test

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// countingMetrics is an engine.Metrics that counts what it is told, as
// "kind label,label" keys.
type countingMetrics struct {
	mu   sync.Mutex
	seen map[string]int
}

func (m *countingMetrics) add(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]int{}
	}
	m.seen[key]++
}

func (m *countingMetrics) CallEnded(d callback.Direction, c callback.Cause) {
	m.add(fmt.Sprintf("ended %s,%s", d, c))
}
func (m *countingMetrics) VerbRan(v string)                  { m.add("verb " + v) }
func (m *countingMetrics) InvalidBXML(ev callback.EventType) { m.add(fmt.Sprintf("invalid %s", ev)) }
func (m *countingMetrics) WebhookAttempt(ev callback.EventType, a engine.Attempt) {
	m.add(fmt.Sprintf("attempt %s,%d", ev, a.Status))
}

func (m *countingMetrics) counts() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.seen)
}

// TestMetricsPort: the engine tells its Metrics of each ended call by
// direction and cause, each verb, each invalid reply and each webhook
// attempt, and Stats counts live calls.
func TestMetricsPort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := &countingMetrics{}
		h := newHarnessWith(t, nil, replies(map[string]string{
			"https://app.test/answer": `<Response><Pause duration="2"/><SpeakSentence>bye</SpeakSentence></Response>`,
			"https://app.test/bad":    `<Response><Pause duration="-1"/></Response>`,
		}), func(c *engine.Config) { c.Metrics = m })
		defer h.close()
		h.call("+15550000486", nil)
		h.call("+15550000603", nil)
		h.call("+15550000000", nil)
		h.call("+15550000000", func(c *engine.Call) { c.AnswerURL = "https://app.test/bad" })
		synctest.Wait()
		if st := h.eng.Stats(); st.Live[callback.Outbound] != 4 || st.Live[callback.Inbound] != 0 {
			t.Errorf("live at the start = %v, want 4 outbound", st.Live)
		}
		h.settle(time.Hour)
		want := map[string]int{
			"ended outbound,busy":         1,
			"ended outbound,rejected":     1,
			"ended outbound,hangup":       1,
			"ended outbound,invalid-bxml": 1,
			"verb Pause":                  1,
			"verb SpeakSentence":          1,
			"invalid answer":              1,
			// The fake app reports an attempt for asynchronous webhooks only.
			"attempt disconnect,204": 4,
		}
		got := m.counts()
		if !maps.Equal(got, want) {
			t.Errorf("metrics told:\n%v\nwant:\n%v", sortedKeys(got), sortedKeys(want))
		}
		if st := h.eng.Stats(); st.Live[callback.Outbound] != 0 || st.Queued != 0 || st.OldestQueued != 0 {
			t.Errorf("stats after the calls = %+v, want nothing live or queued", st)
		}
	})
}

// TestStatsOutbox: a webhook waiting for delivery is counted in Stats with
// its age, until it is delivered.
func TestStatsOutbox(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil, nil)
		h.app.slow = func(callback.Event) time.Duration { return 10 * time.Second }
		defer h.close()
		h.call("+15550000486", nil)
		h.settle(time.Hour)
		before := h.eng.Stats()
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if st := h.eng.Stats(); st.Queued != 1 || before.Queued != 1 || st.OldestQueued-before.OldestQueued != 4*time.Second {
			t.Errorf("stats while the disconnect is out = %+v, then %+v 4 s later, want 1 queued and 4 s older", before, st)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if st := h.eng.Stats(); st.Queued != 0 || st.OldestQueued != 0 {
			t.Errorf("stats once delivered = %+v, want nothing queued", st)
		}
	})
}

func sortedKeys(m map[string]int) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, v))
	}
	slices.Sort(out)
	return out
}
