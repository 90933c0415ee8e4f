package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// The engine's side of joined audio (Config.Mixer): the calls of a bridge
// and the members of a conference share a room, join it when they are
// bridged or let in, are set as the conference says (mute, hold, coach),
// and leave when they are no longer; what a simulated phone says while
// bridged is said into the room, and a conference plays and records in its
// room. fakeMixer notes what the engine asks; the rooms' audio is tested
// against real phones in internal/phone/sip and internal/server.

type fakeMixer struct {
	mu    sync.Mutex
	rooms []*fakeRoom
}

func (m *fakeMixer) Room(notify func(engine.PhoneEvent)) engine.Room {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := &fakeRoom{n: len(m.rooms) + 1, notify: notify, m: m}
	m.rooms = append(m.rooms, r)
	return r
}

// log is every room's operations, in order: "room1 join <call>".
func (m *fakeMixer) log() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, r := range m.rooms {
		out = append(out, r.ops...)
	}
	return out
}

type fakeRoom struct {
	m      *fakeMixer
	n      int
	notify func(engine.PhoneEvent)
	ops    []string
	plays  []engine.Playback
}

func (r *fakeRoom) note(format string, args ...any) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	r.ops = append(r.ops, fmt.Sprintf("room%d ", r.n)+fmt.Sprintf(format, args...))
}

func (r *fakeRoom) Join(l engine.Line, m engine.Member) { r.note("join %s%s", m.CallID, flags(m)) }
func (r *fakeRoom) Set(m engine.Member)                 { r.note("set %s%s", m.CallID, flags(m)) }
func (r *fakeRoom) Leave(callID string)                 { r.note("leave %s", callID) }
func (r *fakeRoom) Say(callID string, p engine.Playback) {
	r.note("say %s %q", callID, p.Prompts[0].Text)
}
func (r *fakeRoom) Audible() bool { return true }
func (r *fakeRoom) Play(p engine.Playback) bool {
	r.note("play %d", len(p.Prompts))
	r.m.mu.Lock()
	r.plays = append(r.plays, p)
	r.m.mu.Unlock()
	return true
}
func (r *fakeRoom) StopPlaying()            { r.note("stop") }
func (r *fakeRoom) Capture() engine.Capture { r.note("capture"); return &fakeCapture{channels: 1} }
func (r *fakeRoom) Close()                  { r.note("close") }

func flags(m engine.Member) string {
	var f []string
	if m.Mute {
		f = append(f, "mute")
	}
	if m.Hold {
		f = append(f, "hold")
	}
	if len(m.Coach) > 0 {
		f = append(f, "coach="+strings.Join(m.Coach, "+"))
	}
	if len(f) == 0 {
		return ""
	}
	return " (" + strings.Join(f, " ") + ")"
}

// withMixer gives the harness's engine a fakeMixer.
func withMixer(m *fakeMixer) func(*engine.Config) {
	return func(c *engine.Config) { c.Mixer = m }
}

// rename replaces call ids with names, for comparing logs.
func rename(ops []string, names map[string]string) string {
	s := strings.Join(ops, "\n")
	for id, name := range names {
		s = strings.ReplaceAll(s, id, name)
	}
	return s
}

// legID is the id of the transfer's B-leg of the call.
func (h *harness) legID(t *testing.T, parent string) string {
	t.Helper()
	calls, err := h.eng.ListCalls(context.Background(), engine.CallFilter{AccountID: "9900000"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		if c.ParentCallID == parent {
			return c.CallID
		}
	}
	t.Fatalf("%s has no B-leg", parent)
	return ""
}

// A transfer's legs meet in a room once the agent answered: the B-leg
// opens it; what the simulated agent says is said into the room; both
// leave when the agent hangs up, and the caller goes on alone. (With a
// transferAnswerUrl the room opens only after its BXML ran: the whisper
// is the agent's only — internal/server tests it with real phones.)
func TestMixerJoinsATransfersLegs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mx := &fakeMixer{}
		scripts := map[string]sim.Script{"+15553330007": {HangupAfter: 5 * time.Second}}
		h := newHarnessWith(t, scripts, replies(map[string]string{
			"https://app.test/answer": `<Response><Transfer transferCompleteUrl="/tc"><PhoneNumber>+15553330007</PhoneNumber></Transfer></Response>`,
			"https://app.test/tc":     hangup,
		}), withMixer(mx))
		defer h.close()
		a := h.call("+15550000000", nil)
		time.Sleep(4 * time.Second)
		b := h.legID(t, a)
		if err := h.net.Speak(b, "Sales, this is Sam.", 0); err != nil {
			t.Fatal(err)
		}
		h.settle(time.Hour)
		got := rename(mx.log(), map[string]string{a: "A", b: "B"})
		want := "room1 join B\nroom1 join A\nroom1 say B \"Sales, this is Sam.\"\nroom1 leave B\nroom1 leave A"
		if got != want {
			t.Errorf("rooms:\n%s\nwant:\n%s", got, want)
		}
	})
}

// Without a Mixer nothing changes: a simulated transfer runs as before
// (TestTransferScenarios); with one, a <Bridge> joins the target and the
// originator in one room, and both leave when the target hangs up.
func TestMixerJoinsABridge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mx := &fakeMixer{}
		scripts := map[string]sim.Script{"+15553330008": {HangupAfter: 20 * time.Second}, "+15553330009": {HangupAfter: 3 * time.Second}}
		var mu sync.Mutex
		var target string
		h := newHarnessWith(t, scripts, func(ev callback.Event, tg engine.Target) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			if tg.URL == "https://app.test/park" {
				return `<Response><Pause duration="30"/></Response>`, nil
			}
			return `<Response><Bridge>` + target + `</Bridge></Response>`, nil
		}, withMixer(mx))
		defer h.close()
		park := h.call("+15553330008", func(c *engine.Call) { c.AnswerURL = "https://app.test/park" })
		mu.Lock()
		target = park
		mu.Unlock()
		time.Sleep(2 * time.Second)
		orig := h.call("+15553330009", nil)
		h.settle(time.Hour)
		got := rename(mx.log(), map[string]string{park: "T", orig: "O"})
		if !strings.HasPrefix(got, "room1 join T\nroom1 join O\n") || !slices.Contains(strings.Split(got, "\n"), "room1 leave T") ||
			!slices.Contains(strings.Split(got, "\n"), "room1 leave O") {
			t.Errorf("rooms:\n%s\nwant the target, then the originator, to join room1 and both to leave it", got)
		}
	})
}

// Conference members join the conference's one room as <Conference> says
// (muted, a coach); an update over REST changes how a member is there;
// conference BXML plays in the room and waits for it to have played; a
// recording is the room's; the room closes with the conference.
func TestMixerJoinsConferenceMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mx, rec := &fakeMixer{}, &memRecorder{}
		const a, b, c = "+15554440001", "+15554440002", "+15554440003"
		scripts := map[string]sim.Script{a: {HangupAfter: 30 * time.Second}, b: {HangupAfter: 30 * time.Second}, c: {HangupAfter: 30 * time.Second}}
		ids := map[string]string{}
		var mu sync.Mutex
		h := newHarnessWith(t, scripts, func(ev callback.Event, tg engine.Target) (string, error) {
			switch {
			case tg.URL == "https://app.test/conf":
				if ev.Type() == "conferenceCreated" {
					return `<Response><StartRecording/><SpeakSentence>Welcome.</SpeakSentence></Response>`, nil
				}
				return "", nil
			case strings.HasSuffix(tg.URL, "/answer"):
				mu.Lock()
				defer mu.Unlock()
				var to string
				if ans, ok := ev.(*callback.Answer); ok {
					to = ans.To
				}
				switch to {
				case a:
					return `<Response><Conference conferenceEventUrl="https://app.test/conf">room-1</Conference></Response>`, nil
				case b:
					return `<Response><Conference mute="true">room-1</Conference></Response>`, nil
				default:
					return `<Response><Conference callIdsToCoach="` + ids[a] + `">room-1</Conference></Response>`, nil
				}
			}
			return "", nil
		}, func(cfg *engine.Config) { cfg.Mixer, cfg.Recorder = mx, rec })
		defer h.close()
		for _, n := range []string{a, b, c} {
			id := h.call(n, nil)
			mu.Lock()
			ids[n] = id
			mu.Unlock()
			time.Sleep(2 * time.Second)
		}
		confs := h.eng.ListConferences(context.Background(), engine.ConferenceFilter{AccountID: "9900000"})
		if len(confs) != 1 {
			t.Fatalf("conferences: %v", confs)
		}
		unmute := false
		if err := h.eng.UpdateConferenceMember(context.Background(), "9900000", confs[0].ID, ids[b], engine.MemberUpdate{Mute: &unmute}); err != nil {
			t.Fatal(err)
		}
		// The room says the welcome has played.
		mx.mu.Lock()
		room := mx.rooms[0]
		plays := slices.Clone(room.plays)
		mx.mu.Unlock()
		if len(plays) != 1 || plays[0].Prompts[0].Text != "Welcome." {
			t.Fatalf("the room played %+v, want the welcome", plays)
		}
		room.notify(engine.PhoneEvent{Kind: engine.PhonePlayed, PlayID: plays[0].ID})
		h.settle(time.Hour)
		got := rename(mx.log(), map[string]string{ids[a]: "A", ids[b]: "B", ids[c]: "C"})
		for _, want := range []string{"room1 join A", "room1 capture", "room1 play 1", "room1 join B (mute)", "room1 join C (coach=A)", "room1 set B", "room1 leave A", "room1 close"} {
			if !slices.Contains(strings.Split(got, "\n"), want) {
				t.Errorf("rooms:\n%s\nwant a line %q", got, want)
			}
		}
		if len(mx.rooms) != 1 {
			t.Errorf("%d rooms, want one for the conference", len(mx.rooms))
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.audio) != 1 || len(rec.channels) != 0 {
			t.Fatalf("saved %d recordings of the room's audio and %d simulated; want the room's", len(rec.audio), len(rec.channels))
		}
		// The room captured a second (fakeCapture); the conference lasted
		// longer, and silence fills the recording to its length.
		if got := rec.audio[0].Length(); got < 20*time.Second {
			t.Errorf("the conference recording's audio lasts %v, want the conference's length", got)
		}
	})
}
