package engine_test

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

func TestMachineDetectionScenarios(t *testing.T) {
	const person, machine = "+15550000801", "+15550000800"
	cases := []struct {
		name    string
		to      string
		scripts map[string]sim.Script
		edit    func(*engine.MachineDetection)
		want    string
	}{
		{name: "async: a person", to: person,
			want: "answer@1s\nmachineDetectionComplete@7.5s human 6.5s\ndisconnect@31s cause=hangup\n"},
		{name: "async: the answering machine beeps", to: machine,
			want: "answer@1s\nmachineDetectionComplete@7.5s answering-machine 6.5s\ndisconnect@31s cause=hangup\n"},
		{name: "sync: the answer carries the result", to: machine, edit: func(m *engine.MachineDetection) { m.Sync = true },
			want: "answer@7.5s answering-machine 6.5s\ndisconnect@37.5s cause=hangup\n"},
		{name: "a lower speechThreshold turns a long-winded person into a machine", to: "+15554445555",
			scripts: map[string]sim.Script{"+15554445555": {Greeting: 4 * time.Second}},
			edit:    func(m *engine.MachineDetection) { m.SpeechThreshold = 3 * time.Second },
			want:    "answer@1s\nmachineDetectionComplete@4.5s answering-machine 3.5s\ndisconnect@31s cause=hangup\n"},
		{name: "…and the default threshold keeps a person", to: "+15554445555",
			scripts: map[string]sim.Script{"+15554445555": {Greeting: 4 * time.Second}},
			want:    "answer@1s\nmachineDetectionComplete@10.5s human 9.5s\ndisconnect@31s cause=hangup\n"},
		{name: "silence", to: "+15554445556", scripts: map[string]sim.Script{"+15554445556": {Voice: sim.Silent}},
			want: "answer@1s\nmachineDetectionComplete@11s silence 10s\ndisconnect@31s cause=hangup\n"},
		{name: "timeout", to: person, edit: func(m *engine.MachineDetection) { m.DetectionTimeout = 3 * time.Second },
			want: "answer@1s\nmachineDetectionComplete@4s timeout 3s\ndisconnect@31s cause=hangup\n"},
		{name: "no result after the callee hangs up", to: "+15554445557",
			scripts: map[string]sim.Script{"+15554445557": {HangupAfter: 2 * time.Second}},
			want:    "answer@1s\ndisconnect@3s cause=hangup\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, c.scripts, replies(map[string]string{
					"https://app.test/answer": `<Response><Pause duration="30"/></Response>`}))
				defer h.close()
				h.call(c.to, func(call *engine.Call) {
					md := engine.DefaultMachineDetection()
					md.Callback = engine.Target{URL: "https://app.test/amd"}
					if c.edit != nil {
						c.edit(&md)
					}
					call.MachineDetection = &md
				})
				h.settle(time.Hour)
				var b strings.Builder
				for _, d := range h.app.events() {
					fmt.Fprintf(&b, "%s@%gs", d.event.Type(), d.at.Seconds())
					var r *callback.MachineDetectionResult
					switch ev := d.event.(type) {
					case *callback.Answer:
						r = ev.MachineDetectionResult
					case *callback.MachineDetectionComplete:
						r = ev.MachineDetectionResult
						if d.target.URL != "https://app.test/amd" {
							t.Errorf("machineDetectionComplete went to %s", d.target.URL)
						}
					case *callback.Disconnect:
						fmt.Fprintf(&b, " cause=%s", ev.Cause)
					}
					if r != nil {
						fmt.Fprintf(&b, " %s %gs", r.Value, time.Duration(r.Duration).Seconds())
					}
					b.WriteString("\n")
				}
				if got := b.String(); got != c.want {
					t.Errorf("webhooks:\n%s\nwant:\n%s", got, c.want)
				}
			})
		})
	}
}
