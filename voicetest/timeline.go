package voicetest

import (
	"fmt"
	"github.com/go-json-experiment/json"
	"slices"
	"strings"
	"time"
)

// Timeline is the call's story for people, one line per step, times from
// its start: the engine's states, verbs and webhooks, the app's replies and
// what the test made the far end do.
//
//	call c-1a2b… inbound +15557770000 → +15550001000, ended: hangup
//	   0.000s state   initiated: +15557770000 calls +15550001000
//	   0.000s webhook initiate → POST http://app.voicetest/initiate
//	   0.000s app     200 <Response><Gather …>…</Response>
//	   0.000s verb    Gather maxDigits=1 url=/menu
//	   4.300s phone   presses "2"
func (c *Call) Timeline() string {
	type line struct {
		at         time.Time
		kind, text string
	}
	var lines []line
	status, body, err := c.e.do("GET", "/sim/v1/calls/"+c.ID+"/events", nil)
	var hist []historyEntry
	if err == nil && status == 200 {
		hist = c.decodeHistory(body)
	}
	c.e.mu.Lock()
	hooks := slices.Clone(c.hooks)
	actions := slices.Clone(c.actions)
	cause, direction, from, to := c.cause, c.Direction, c.From, c.To
	c.e.mu.Unlock()

	used := make([]bool, len(hooks))
	for _, h := range hist {
		if h.Kind == "attempt" && delivered(h) {
			continue // the app line says it
		}
		text := h.Summary
		if strings.HasSuffix(text, ended) {
			text = strings.SplitN(text, " → ", 2)[0] + " → voicetest (the app asked for none)"
		}
		lines = append(lines, line{h.Time, h.Kind, text})
		if h.Kind != "webhook" {
			continue
		}
		// The app's reply goes right after the webhook it answers.
		for i, w := range hooks {
			if !used[i] && strings.HasPrefix(h.Summary, w.Type+" ") {
				used[i] = true
				lines = append(lines, line{h.Time, "app", replyLine(w)})
				break
			}
		}
	}
	for i, w := range hooks {
		if !used[i] {
			lines = append(lines, line{w.Time, "app", fmt.Sprintf("%s received: %s", w.Type, replyLine(w))})
		}
	}
	for _, a := range actions {
		lines = append(lines, line{a.at, "phone", strings.TrimPrefix(a.what, "phone ")})
	}
	slices.SortStableFunc(lines, func(a, b line) int { return a.at.Compare(b.at) })

	var b strings.Builder
	state := "up"
	if cause != "" {
		state = "ended: " + cause
	}
	fmt.Fprintf(&b, "call %s %s %s → %s, %s\n", c.ID, direction, from, to, state)
	if err != nil || status != 200 {
		fmt.Fprintf(&b, "  (no history: %s)\n", describe(status, body, err))
	}
	var start time.Time
	if len(lines) > 0 {
		start = lines[0].at
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "  %8.3fs %-7s %s\n", l.at.Sub(start).Seconds(), l.kind, l.text)
	}
	return b.String()
}

func (c *Call) decodeHistory(body []byte) []historyEntry {
	var out []historyEntry
	if err := json.Unmarshal(body, &out); err != nil {
		return nil
	}
	return out
}

// delivered reports whether a delivery attempt got a 2xx.
func delivered(h historyEntry) bool {
	var d struct {
		Status int `json:"status"`
	}
	return json.Unmarshal(h.Detail, &d) == nil && d.Status >= 200 && d.Status < 300
}

// replyLine is the app's answer to a webhook in one line.
func replyLine(w *Webhook) string {
	reply := strings.TrimSpace(strings.TrimPrefix(w.Reply, `<?xml version="1.0" encoding="UTF-8"?>`))
	reply = strings.Join(strings.Fields(reply), " ")
	if len(reply) > 200 {
		reply = reply[:200] + "…"
	}
	if reply == "" {
		return fmt.Sprint(w.Status)
	}
	return fmt.Sprintf("%d %s", w.Status, reply)
}
