package engine_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// confStore is a memStore that keeps conferences too: an
// engine.ConferenceStore.
type confStore struct {
	*memStore
	// slow is how long SaveConference takes: a slow disk.
	slow  time.Duration
	cmu   sync.Mutex
	confs []engine.Conference // in creation order
}

func (s *confStore) SaveConference(_ context.Context, c engine.Conference) error {
	time.Sleep(s.slow)
	s.cmu.Lock()
	defer s.cmu.Unlock()
	c.Members, c.Joined = slices.Clone(c.Members), slices.Clone(c.Joined)
	if i := slices.IndexFunc(s.confs, func(o engine.Conference) bool { return o.ID == c.ID }); i >= 0 {
		s.confs[i] = c
	} else {
		s.confs = append(s.confs, c)
	}
	return nil
}

func (s *confStore) GetConference(_ context.Context, accountID, id string) (*engine.Conference, error) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	for _, c := range s.confs {
		if c.ID == id && c.AccountID == accountID {
			return &c, nil
		}
	}
	return nil, engine.ErrNotFound
}

func (s *confStore) ListConferences(_ context.Context, f engine.ConferenceFilter) ([]engine.Conference, error) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	var out []engine.Conference
	after := f.After == ""
	for _, c := range s.confs {
		if !after {
			after = c.ID == f.After
			continue
		}
		if c.AccountID == f.AccountID && (f.Name == "" || c.Name == f.Name) && (f.Limit == 0 || len(out) < f.Limit) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *confStore) ActiveConferences(context.Context) ([]engine.Conference, error) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	var out []engine.Conference
	for _, c := range s.confs {
		if c.CompletedTime.IsZero() {
			out = append(out, c)
		}
	}
	return out, nil
}

// stored returns the store's conferences.
func (s *confStore) stored() []engine.Conference {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return slices.Clone(s.confs)
}

// onStore returns a harness option that makes store the engine's store.
func onStore(store engine.Store) func(*engine.Config) {
	return func(cfg *engine.Config) { cfg.Store = store }
}

// TestConferenceOutlivesTheEngine: a conference is stored as members join
// and change; when the engine stops with its members live, the next engine
// on the store ends them and completes the conference, without its
// webhooks, keeping the calls that joined; listings page over it and the
// conferences the new engine runs.
func TestConferenceOutlivesTheEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const a, b, c = "+15554450001", "+15554450002", "+15554450003"
		ctx := context.Background()
		store := &confStore{memStore: newMemStore(), slow: 10 * time.Millisecond}
		byURL := replies(map[string]string{
			"https://app.test/answer":   `<Response><Conference conferenceEventUrl="https://app.test/conf">room-1</Conference></Response>`,
			"https://app.test/answer-2": `<Response><Conference>room-2</Conference></Response>`,
			"https://app.test/conf":     ""})
		// A member's join is stored before its conferenceMemberJoin leaves.
		answers := func(ev callback.Event, tg engine.Target) (string, error) {
			if j, ok := ev.(*callback.ConferenceMemberJoin); ok {
				confs := store.stored()
				if len(confs) != 1 || !slices.ContainsFunc(confs[0].Members, func(m engine.ConferenceMember) bool { return m.CallID == j.CallID }) {
					t.Errorf("conferenceMemberJoin of %s sent before the join was stored: %+v", j.CallID, confs)
				}
			}
			return byURL(ev, tg)
		}
		first := newHarnessWith(t, map[string]sim.Script{b: {Ring: 2 * time.Second}}, answers, onStore(store))
		ida, idb := first.call(a, nil), first.call(b, nil)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		confs := store.stored()
		if len(confs) != 1 || len(confs[0].Members) != 2 || !slices.Equal(confs[0].Joined, []string{ida, idb}) || confs[0].CreatorCallID != ida {
			t.Fatalf("stored after two joins: %+v; want one conference created by %s, with members and joined %s and %s", confs, ida, ida, idb)
		}
		id := confs[0].ID
		mute := true
		if err := first.eng.UpdateConferenceMember(ctx, "9900000", id, idb, engine.MemberUpdate{Mute: &mute}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second) // the slow store's write
		synctest.Wait()
		if m := store.stored()[0].Members; len(m) != 2 || !m[1].Mute || m[1].To != b {
			t.Errorf("stored members after muting %s: %+v", idb, m)
		}
		first.close()

		second := newHarnessWith(t, map[string]sim.Script{c: {Ring: time.Second}}, answers, onStore(store))
		defer second.close()
		synctest.Wait()
		got, err := second.eng.GetConference(ctx, "9900000", id)
		if err != nil {
			t.Fatal(err)
		}
		if got.CompletedTime.IsZero() || len(got.Members) != 0 || !slices.Equal(got.Joined, []string{ida, idb}) {
			t.Errorf("after the restart: %+v; want it completed, no members, joined by %s and %s", got, ida, idb)
		}
		for _, d := range second.app.events() {
			if d.target.URL == "https://app.test/conf" {
				t.Errorf("the new engine sent the dead conference's %s", d.event.Type())
			}
		}
		if err := second.eng.UpdateConference(ctx, "9900000", id, engine.ConferenceUpdate{Complete: true}); engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("completing it again: %v, want a conflict", err)
		}

		idc := second.call(c, func(call *engine.Call) { call.AnswerURL = "https://app.test/answer-2" })
		time.Sleep(5 * time.Second)
		synctest.Wait()
		list := second.eng.ListConferences(ctx, engine.ConferenceFilter{AccountID: "9900000"})
		if len(list) != 2 || list[0].ID != id || list[1].Name != "room-2" {
			t.Fatalf("conferences: %+v, want room-1 then room-2", list)
		}
		page := second.eng.ListConferences(ctx, engine.ConferenceFilter{AccountID: "9900000", After: id})
		if len(page) != 1 || page[0].ID != list[1].ID || len(page[0].Members) != 1 || page[0].Members[0].CallID != idc {
			t.Errorf("conferences after room-1: %+v, want room-2 with %s in it", page, idc)
		}
	})
}

// TestConferenceLeavesMemoryCompleted: a conference that completes is
// stored so, and read from the store afterwards.
func TestConferenceLeavesMemoryCompleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := &confStore{memStore: newMemStore()}
		h := newHarnessWith(t, map[string]sim.Script{"+15554450011": {HangupAfter: 3 * time.Second}},
			replies(map[string]string{"https://app.test/answer": `<Response><Conference>room-1</Conference></Response>`}), onStore(store))
		defer h.close()
		id := h.call("+15554450011", nil)
		h.settle(time.Hour)
		confs := store.stored()
		if len(confs) != 1 || confs[0].CompletedTime.IsZero() || len(confs[0].Members) != 0 {
			t.Fatalf("stored: %+v, want one completed conference", confs)
		}
		// A change made in the store shows: the engine reads it there.
		confs[0].Name = "renamed in the store"
		if err := store.SaveConference(ctx, confs[0]); err != nil {
			t.Fatal(err)
		}
		got, err := h.eng.GetConference(ctx, "9900000", confs[0].ID)
		if err != nil || !slices.Equal(got.Joined, []string{id}) || got.CompletedTime.IsZero() || got.Name != confs[0].Name {
			t.Errorf("GetConference: %+v, %v; want the store's: completed, joined by %s, renamed", got, err, id)
		}
		if list := h.eng.ListConferences(ctx, engine.ConferenceFilter{AccountID: "9900000"}); len(list) != 1 || list[0].ID != confs[0].ID {
			t.Errorf("ListConferences: %+v", list)
		}
		if _, err := h.eng.GetConference(ctx, "9900001", confs[0].ID); engine.ErrorCode(err) != engine.ENotFound {
			t.Errorf("another account's: %v, want not found", err)
		}
	})
}

// TestStartEndsOrphanConferences: Start completes the stored conferences
// whose members are all calls it ended, or that have none and were
// created by a call it ended, and leaves the others, which another node
// may run.
func TestStartEndsOrphanConferences(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := &confStore{memStore: newMemStore()}
		live := &engine.Call{AccountID: "9900000", CallID: "c-live", State: engine.StateAnswered, To: "+15554450021", From: "+15551112222"}
		if err := store.SaveCall(ctx, live); err != nil {
			t.Fatal(err)
		}
		done := &engine.Call{AccountID: "9900000", CallID: "c-done", State: engine.StateDisconnected, To: "+15554450022", From: "+15551112222"}
		if err := store.SaveCall(ctx, done); err != nil {
			t.Fatal(err)
		}
		created := time.Now().Add(-time.Hour)
		for _, c := range []engine.Conference{
			{ID: "conf-orphan", AccountID: "9900000", Name: "a", CreatedTime: created,
				Members: []engine.ConferenceMember{{CallID: "c-live"}}, Joined: []string{"c-gone", "c-live"}},
			{ID: "conf-empty", AccountID: "9900000", Name: "b", CreatedTime: created, Joined: []string{"c-live"}, CreatorCallID: "c-live"},
			// Its member's call ended, but the conference was not saved
			// after: the node died in between.
			{ID: "conf-stale", AccountID: "9900000", Name: "e", CreatedTime: created,
				Members: []engine.ConferenceMember{{CallID: "c-done"}}, Joined: []string{"c-done"}, CreatorCallID: "c-done"},
			{ID: "conf-empty-elsewhere", AccountID: "9900000", Name: "d", CreatedTime: created, Joined: []string{"c-other-node"}, CreatorCallID: "c-other-node"},
			{ID: "conf-elsewhere", AccountID: "9900000", Name: "c", CreatedTime: created,
				Members: []engine.ConferenceMember{{CallID: "c-live"}, {CallID: "c-other-node"}}, Joined: []string{"c-live", "c-other-node"}},
		} {
			if err := store.SaveConference(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		h := newHarnessWith(t, nil, replies(nil), onStore(store))
		defer h.close()
		synctest.Wait()
		for _, c := range store.stored() {
			completed := !c.CompletedTime.IsZero()
			switch c.ID {
			case "conf-orphan", "conf-empty", "conf-stale":
				if !completed || len(c.Members) != 0 || len(c.Joined) == 0 {
					t.Errorf("%s: %+v; want it completed, no members, its joined calls kept", c.ID, c)
				}
			case "conf-elsewhere", "conf-empty-elsewhere":
				if completed || c.ID == "conf-elsewhere" && len(c.Members) != 2 {
					t.Errorf("%s: %+v; want it left as it was", c.ID, c)
				}
			}
		}
	})
}
