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

// confEvents renders the conference webhooks in the order they were sent:
// "type@seconds url [member] tag=…".
func confEvents(got []delivered) string {
	var b strings.Builder
	for _, d := range got {
		var tag *string
		member := ""
		switch ev := d.event.(type) {
		case *callback.ConferenceCreated:
			tag = ev.Tag
		case *callback.ConferenceMemberJoin:
			tag, member = ev.Tag, " "+ev.To
		case *callback.ConferenceMemberExit:
			tag, member = ev.Tag, " "+ev.To
		case *callback.ConferenceRedirect:
			tag = ev.Tag
		case *callback.ConferenceCompleted:
			tag = ev.Tag
		default:
			continue
		}
		fmt.Fprintf(&b, "%s@%gs %s%s", d.event.Type(), d.at.Seconds(), d.target.URL, member)
		if tag != nil {
			fmt.Fprintf(&b, " tag=%s", *tag)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestConferenceScenarios(t *testing.T) {
	const a, b, c = "+15554440001", "+15554440002", "+15554440003"
	join := func(attrs string) string {
		return `<Response><Conference ` + attrs + `>room-1</Conference><SpeakSentence>You are on your own now.</SpeakSentence></Response>`
	}
	cases := []struct {
		name    string
		scripts map[string]sim.Script
		answers map[string]string // by number
		during  func(t *testing.T, h *harness, ids map[string]string)
		conf    string // the conference's webhooks, in order
		calls   string // the calls' webhooks
	}{
		{name: "three members hang up one by one",
			scripts: map[string]sim.Script{
				a: {HangupAfter: 10 * time.Second}, b: {Ring: 2 * time.Second, HangupAfter: 20 * time.Second},
				c: {Ring: 3 * time.Second, HangupAfter: 5 * time.Second}},
			answers: map[string]string{
				a: join(`conferenceEventUrl="https://app.test/conf" tag="sales"`),
				// Later joiners' settings are ignored.
				b: join(`conferenceEventUrl="https://app.test/other" tag="other"`),
				c: join(``)},
			conf: "conferenceCreated@1s https://app.test/conf tag=sales\n" +
				"conferenceMemberJoin@1s https://app.test/conf +15554440001 tag=sales\n" +
				"conferenceMemberJoin@2s https://app.test/conf +15554440002 tag=sales\n" +
				"conferenceMemberJoin@3s https://app.test/conf +15554440003 tag=sales\n" +
				"conferenceMemberExit@8s https://app.test/conf +15554440003 tag=sales\n" +
				"conferenceMemberExit@11s https://app.test/conf +15554440001 tag=sales\n" +
				"conferenceMemberExit@22s https://app.test/conf +15554440002 tag=sales\n" +
				"conferenceCompleted@22s https://app.test/conf tag=sales\n",
			calls: "answer@1s +15554440001\nanswer@2s +15554440002\nanswer@3s +15554440003\n" +
				"disconnect@8s +15554440003 cause=hangup\ndisconnect@11s +15554440001 cause=hangup\n" +
				"disconnect@22s +15554440002 cause=hangup\n"},
		{name: "completed over REST: members go on with the next verb",
			answers: map[string]string{
				a: join(`conferenceEventUrl="https://app.test/conf"`),
				b: join(``)},
			scripts: map[string]sim.Script{b: {Ring: 2 * time.Second}},
			during: func(t *testing.T, h *harness, ids map[string]string) {
				time.Sleep(5 * time.Second)
				h.updateConference(t, engine.ConferenceUpdate{Complete: true})
			},
			conf: "conferenceCreated@1s https://app.test/conf\n" +
				"conferenceMemberJoin@1s https://app.test/conf +15554440001\n" +
				"conferenceMemberJoin@2s https://app.test/conf +15554440002\n" +
				"conferenceMemberExit@5s https://app.test/conf +15554440001\n" +
				"conferenceMemberExit@5s https://app.test/conf +15554440002\n" +
				"conferenceCompleted@5s https://app.test/conf\n",
			// "You are on your own now." takes 1.6 s.
			calls: "answer@1s +15554440001\nanswer@2s +15554440002\n" +
				"disconnect@6.6s +15554440001 cause=hangup\ndisconnect@6.6s +15554440002 cause=hangup\n"},
		{name: "a member redirected out leaves; conferenceRedirect over REST",
			answers: map[string]string{
				a: join(`conferenceEventUrl="https://app.test/conf"`),
				b: join(``)},
			scripts: map[string]sim.Script{a: {HangupAfter: 20 * time.Second}, b: {Ring: 2 * time.Second}},
			during: func(t *testing.T, h *harness, ids map[string]string) {
				time.Sleep(4 * time.Second)
				h.updateConference(t, engine.ConferenceUpdate{Redirect: engine.Target{URL: "https://app.test/conf-redirect"}})
				time.Sleep(1 * time.Second)
				if err := h.eng.UpdateCall(context.Background(), "9900000", ids[b],
					engine.Update{Redirect: engine.Target{URL: "https://app.test/out"}}); err != nil {
					t.Error(err)
				}
			},
			conf: "conferenceCreated@1s https://app.test/conf\n" +
				"conferenceMemberJoin@1s https://app.test/conf +15554440001\n" +
				"conferenceMemberJoin@2s https://app.test/conf +15554440002\n" +
				"conferenceRedirect@4s https://app.test/conf-redirect\n" +
				"conferenceMemberExit@5s https://app.test/conf +15554440002\n" +
				"conferenceMemberExit@21s https://app.test/conf +15554440001\n" +
				"conferenceCompleted@21s https://app.test/conf\n",
			calls: "answer@1s +15554440001\nanswer@2s +15554440002\nredirect@5s +15554440002\n" +
				"disconnect@5s +15554440002 cause=hangup\ndisconnect@21s +15554440001 cause=hangup\n"},
		{name: "without conferenceEventUrl the conference sends nothing",
			answers: map[string]string{a: join(``), b: join(``)},
			scripts: map[string]sim.Script{a: {HangupAfter: 3 * time.Second}, b: {HangupAfter: 4 * time.Second}},
			calls: "answer@1s +15554440001\nanswer@1s +15554440002\n" +
				"disconnect@4s +15554440001 cause=hangup\ndisconnect@5s +15554440002 cause=hangup\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				app := map[string]string{"https://app.test/conf": "", "https://app.test/other": "",
					"https://app.test/conf-redirect": `<Response><SpeakSentence>Welcome</SpeakSentence></Response>`,
					"https://app.test/out":           hangup}
				for n, body := range tc.answers {
					app["https://app.test/answer/"+n] = body
				}
				var mu sync.Mutex
				h := newHarness(t, tc.scripts, func(ev callback.Event, tg engine.Target) (string, error) {
					mu.Lock()
					defer mu.Unlock()
					return replies(app)(ev, tg)
				})
				defer h.close()
				ids := map[string]string{}
				for _, n := range []string{a, b, c} {
					if _, ok := tc.answers[n]; ok {
						ids[n] = h.call(n, func(c *engine.Call) { c.AnswerURL = "https://app.test/answer/" + n })
					}
				}
				if tc.during != nil {
					tc.during(t, h, ids)
				}
				h.settle(time.Hour)
				got := h.app.events()
				if s := confEvents(got); s != tc.conf {
					t.Errorf("conference webhooks:\n%s\nwant:\n%s", s, tc.conf)
				}
				if s := byNumber(got); s != tc.calls {
					t.Errorf("call webhooks:\n%s\nwant:\n%s", s, tc.calls)
				}
				confs := h.eng.ListConferences(context.Background(), engine.ConferenceFilter{AccountID: "9900000"})
				if len(confs) != 1 || confs[0].CompletedTime.IsZero() || len(confs[0].Members) != 0 {
					t.Errorf("conferences after the calls: %+v, want one completed and empty", confs)
				}
			})
		})
	}
}

// updateConference updates the harness's only conference.
func (h *harness) updateConference(t *testing.T, u engine.ConferenceUpdate) {
	t.Helper()
	confs := h.eng.ListConferences(context.Background(), engine.ConferenceFilter{AccountID: "9900000"})
	if len(confs) != 1 {
		t.Fatalf("%d conferences, want 1", len(confs))
	}
	if err := h.eng.UpdateConference(context.Background(), "9900000", confs[0].ID, u); err != nil {
		t.Fatal(err)
	}
}

func TestConferenceHoldsTwentyMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		scripts := map[string]sim.Script{}
		for i := range engine.MaxConferenceMembers + 1 {
			scripts[fmt.Sprintf("+155544401%02d", i)] = sim.Script{HangupAfter: 10 * time.Second}
		}
		h := newHarness(t, scripts, replies(map[string]string{
			"https://app.test/answer": `<Response><Conference conferenceEventUrl="https://app.test/conf">big</Conference><SpeakSentence>It is full.</SpeakSentence></Response>`,
			"https://app.test/conf":   ""}))
		defer h.close()
		for n := range scripts {
			h.call(n, nil)
		}
		h.settle(time.Hour)
		got := h.app.events()
		joins, early := 0, 0
		for _, d := range got {
			switch d.event.(type) {
			case *callback.ConferenceMemberJoin:
				joins++
			case *callback.Disconnect:
				if d.at < 10*time.Second {
					early++ // the call the conference refused went on with <SpeakSentence>
				}
			}
		}
		if joins != engine.MaxConferenceMembers || early != 1 {
			t.Errorf("%d joins and %d calls refused, want %d and 1:\n%s", joins, early, engine.MaxConferenceMembers, summary(got))
		}
	})
}

func TestConferenceLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, nil, replies(map[string]string{
			"https://app.test/answer": `<Response><Conference conferenceEventUrl="https://app.test/conf">long</Conference><SpeakSentence>That is all.</SpeakSentence></Response>`,
			"https://app.test/conf":   ""}))
		defer h.close()
		h.call("+15554440200", nil)
		time.Sleep(25 * time.Hour)
		h.settle(time.Hour)
		want := "conferenceCreated@1s https://app.test/conf\n" +
			"conferenceMemberJoin@1s https://app.test/conf +15554440200\n" +
			"conferenceMemberExit@86401s https://app.test/conf +15554440200\n" +
			"conferenceCompleted@86401s https://app.test/conf\n"
		got := h.app.events()
		if s := confEvents(got); s != want {
			t.Errorf("conference webhooks:\n%s\nwant:\n%s", s, want)
		}
		// The member goes on with "That is all." (0.8 s).
		if s := byNumber(got); s != "answer@1s +15554440200\ndisconnect@86401.8s +15554440200 cause=hangup\n" {
			t.Errorf("call webhooks:\n%s", s)
		}
	})
}

func TestConferenceMembers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var mu sync.Mutex
		app := map[string]string{"https://app.test/conf": "",
			"https://app.test/answer": `<Response><Conference mute="true" conferenceEventUrl="https://app.test/conf">team</Conference></Response>`}
		h := newHarness(t, map[string]sim.Script{"+15554440302": {Ring: 2 * time.Second}, "+15554440303": {Ring: 3 * time.Second}},
			func(ev callback.Event, tg engine.Target) (string, error) {
				mu.Lock()
				defer mu.Unlock()
				return replies(app)(ev, tg)
			})
		defer h.close()
		first := h.call("+15554440301", nil)
		time.Sleep(1500 * time.Millisecond)
		mu.Lock()
		app["https://app.test/answer"] = fmt.Sprintf(`<Response><Conference callIdsToCoach="%s">team</Conference></Response>`, first)
		mu.Unlock()
		coach := h.call("+15554440302", nil)
		time.Sleep(time.Second)
		other := h.call("+15554440303", nil)
		time.Sleep(5 * time.Second)

		confs := h.eng.ListConferences(ctx, engine.ConferenceFilter{AccountID: "9900000", Name: "team"})
		if len(confs) != 1 || len(confs[0].Members) != 3 {
			t.Fatalf("conferences: %+v, want one with 3 members", confs)
		}
		id := confs[0].ID
		if err := callback.ValidateConferenceID(id); err != nil {
			t.Error(err)
		}
		m, err := h.eng.GetConferenceMember(ctx, "9900000", id, first)
		if err != nil || !m.Mute || m.Hold {
			t.Errorf("first member = %+v, %v; want muted, not held", m, err)
		}
		m, err = h.eng.GetConferenceMember(ctx, "9900000", id, coach)
		if err != nil || m.Mute || len(m.CallIDsToCoach) != 1 || m.CallIDsToCoach[0] != first {
			t.Errorf("coach = %+v, %v; want unmuted, coaching %s", m, err, first)
		}
		yes, no := true, false
		if err := h.eng.UpdateConferenceMember(ctx, "9900000", id, first, engine.MemberUpdate{Mute: &no, Hold: &yes}); err != nil {
			t.Fatal(err)
		}
		if m, _ := h.eng.GetConferenceMember(ctx, "9900000", id, first); m == nil || m.Mute || !m.Hold {
			t.Errorf("after the update, first member = %+v; want held, unmuted", m)
		}
		// One coach per conference.
		err = h.eng.UpdateConferenceMember(ctx, "9900000", id, other, engine.MemberUpdate{SetCoach: true, CallIDsToCoach: []string{first}})
		if engine.ErrorCode(err) != engine.EInvalid {
			t.Errorf("a second coach: err = %v, want invalid", err)
		}
		if _, err := h.eng.GetConferenceMember(ctx, "9900000", id, "c-nobody"); engine.ErrorCode(err) != engine.ENotFound {
			t.Errorf("unknown member: err = %v, want not found", err)
		}
		if _, err := h.eng.GetConference(ctx, "9900001", id); engine.ErrorCode(err) != engine.ENotFound {
			t.Errorf("another account's conference: err = %v, want not found", err)
		}

		h.updateConference(t, engine.ConferenceUpdate{Complete: true})
		h.settle(time.Hour)
		err = h.eng.UpdateConferenceBXML(ctx, "9900000", id, nil)
		if engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("PUT bxml on a completed conference: err = %v, want conflict", err)
		}
		// The same name later is a new conference.
		h.call("+15554440304", nil)
		h.settle(time.Hour)
		if confs := h.eng.ListConferences(ctx, engine.ConferenceFilter{AccountID: "9900000", Name: "team"}); len(confs) != 2 || confs[1].ID == id {
			t.Errorf("conferences named team: %+v, want two with different ids", confs)
		}
	})
}
