package storetest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
)

// RunConferences checks a store of conferences: every field round-trips
// (times as for calls, a nil Tag apart from an empty one, members with
// their numbers and coaching), a save replaces and keeps the conference's
// place, another account's conference is not found, listings filter and
// page in creation order, and ActiveConferences returns the conferences
// not completed of every account. open must return a new, empty store.
// reopen, when set, closes the store and opens it again over the same
// data, to check that conferences outlive it.
func RunConferences(t *testing.T, open func(t *testing.T) engine.ConferenceStore,
	reopen func(t *testing.T, s engine.ConferenceStore) engine.ConferenceStore) {
	ctx := t.Context()
	s := open(t)
	zone := time.FixedZone("UTC+2", 2*60*60)
	a := engine.Conference{ID: "conf-a", Name: "sales", AccountID: "acct-1",
		CreatedTime: t0.Add(123456789 * time.Nanosecond).In(zone), EventURL: "https://app.example/conf", EventMethod: "POST",
		Tag: ptr("tag ✓"), CreatorCallID: "c-1",
		Members: []engine.ConferenceMember{
			{CallID: "c-1", From: "+15551110001", To: "+15552220001", CallIDsToCoach: []string{"c-2"}},
			{CallID: "c-2", From: "+15551110002", To: "+15552220002", Mute: true, Hold: true},
		},
		Joined: []string{"c-1", "c-3", "c-2"}}
	b := engine.Conference{ID: "conf-b", Name: "support", AccountID: "acct-1", CreatedTime: t0.Add(time.Hour),
		Tag: ptr(""), CreatorCallID: "c-4", Members: []engine.ConferenceMember{{CallID: "c-4"}}, Joined: []string{"c-4"}}
	c := engine.Conference{ID: "conf-c", Name: "sales", AccountID: "acct-2", CreatedTime: t0, CreatorCallID: "c-5",
		Members: []engine.ConferenceMember{{CallID: "c-5"}}, Joined: []string{"c-5"}}
	d := engine.Conference{ID: "conf-d", Name: "sales", AccountID: "acct-1", CreatedTime: t0.Add(2 * time.Hour),
		CompletedTime: t0.Add(3 * time.Hour), CreatorCallID: "c-6", Joined: []string{"c-6"}}
	save := func(confs ...engine.Conference) {
		t.Helper()
		for _, c := range confs {
			if err := s.SaveConference(ctx, c); err != nil {
				t.Fatalf("SaveConference(%s): %v", c.ID, err)
			}
		}
	}
	check := func(what string, want engine.Conference) {
		t.Helper()
		got, err := s.GetConference(ctx, want.AccountID, want.ID)
		if err != nil {
			t.Fatalf("%s: GetConference(%s): %v", what, want.ID, err)
		}
		checkConference(t, what, *got, want)
	}
	list := func(f engine.ConferenceFilter) string {
		t.Helper()
		got, err := s.ListConferences(ctx, f)
		if err != nil {
			t.Fatalf("ListConferences(%+v): %v", f, err)
		}
		ids := make([]string, len(got))
		for i, c := range got {
			ids[i] = c.ID
		}
		return strings.Join(ids, " ")
	}

	save(a, b, c, d)
	for _, want := range []engine.Conference{a, b, c, d} {
		check("saved", want)
	}
	if _, err := s.GetConference(ctx, "acct-2", a.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("GetConference of another account's: error %v, want one wrapping engine.ErrNotFound", err)
	}
	if _, err := s.GetConference(ctx, "acct-1", "conf-unknown"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("GetConference of an unknown one: error %v, want one wrapping engine.ErrNotFound", err)
	}

	// A save replaces: a member leaves, and the conference completes.
	a.Members = a.Members[1:]
	a.CompletedTime = t0.Add(4 * time.Hour)
	save(a)
	check("replaced", a)

	for _, tt := range []struct {
		name string
		f    engine.ConferenceFilter
		want string
	}{
		{"the account's, in creation order", engine.ConferenceFilter{AccountID: "acct-1"}, "conf-a conf-b conf-d"},
		{"by name", engine.ConferenceFilter{AccountID: "acct-1", Name: "sales"}, "conf-a conf-d"},
		{"another account", engine.ConferenceFilter{AccountID: "acct-2"}, "conf-c"},
		{"created from, inclusive", engine.ConferenceFilter{AccountID: "acct-1", MinCreated: t0.Add(time.Hour)}, "conf-b conf-d"},
		{"created up to, inclusive", engine.ConferenceFilter{AccountID: "acct-1", MaxCreated: t0.Add(time.Hour)}, "conf-a conf-b"},
		{"limited", engine.ConferenceFilter{AccountID: "acct-1", Limit: 2}, "conf-a conf-b"},
		{"after one", engine.ConferenceFilter{AccountID: "acct-1", After: "conf-a"}, "conf-b conf-d"},
		{"after one, limited", engine.ConferenceFilter{AccountID: "acct-1", After: "conf-a", Limit: 1}, "conf-b"},
		{"after the last", engine.ConferenceFilter{AccountID: "acct-1", After: "conf-d"}, ""},
		{"after an unknown one", engine.ConferenceFilter{AccountID: "acct-1", After: "conf-unknown"}, ""},
		{"an unknown account", engine.ConferenceFilter{AccountID: "acct-3"}, ""},
	} {
		if got := list(tt.f); got != tt.want {
			t.Errorf("ListConferences %s = %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, err := s.ListConferences(ctx, engine.ConferenceFilter{AccountID: "acct-1", Limit: -1}); err == nil {
		t.Error("ListConferences with a negative limit: no error")
	}
	checkActive := func(what string, want ...string) {
		t.Helper()
		active, err := s.ActiveConferences(ctx)
		if err != nil {
			t.Fatalf("%s: ActiveConferences: %v", what, err)
		}
		var got []string
		for _, c := range active {
			got = append(got, c.ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: ActiveConferences = %q, want %q in any order", what, got, want)
		}
	}
	checkActive("saved", "conf-b", "conf-c")

	if reopen == nil {
		return
	}
	s = reopen(t, s)
	for _, want := range []engine.Conference{a, b, c, d} {
		check("after a restart", want)
	}
	checkActive("after a restart", "conf-b", "conf-c")
	// Creation order goes on where it stopped.
	e := engine.Conference{ID: "conf-e", Name: "late", AccountID: "acct-1", CreatedTime: t0, CreatorCallID: "c-7",
		Members: []engine.ConferenceMember{{CallID: "c-7"}}, Joined: []string{"c-7"}}
	b.Members, b.CompletedTime = nil, t0.Add(5*time.Hour)
	save(e, b)
	if got, want := list(engine.ConferenceFilter{AccountID: "acct-1"}), "conf-a conf-b conf-d conf-e"; got != want {
		t.Errorf("ListConferences after a restart = %q, want %q", got, want)
	}
	checkActive("after a restart and saves", "conf-c", "conf-e")
}

// checkConference reports every field in which got differs from want.
// Times compare as instants within a millisecond and must be in UTC.
func checkConference(t *testing.T, what string, got, want engine.Conference) {
	t.Helper()
	for _, tt := range []struct {
		name      string
		got, want time.Time
	}{{"CreatedTime", got.CreatedTime, want.CreatedTime}, {"CompletedTime", got.CompletedTime, want.CompletedTime}} {
		if err := sameInstant(tt.got, tt.want); err != nil {
			t.Errorf("%s: conference %s: %s: %v", what, want.ID, tt.name, err)
		}
	}
	got.CreatedTime, got.CompletedTime = time.Time{}, time.Time{}
	want.CreatedTime, want.CompletedTime = time.Time{}, time.Time{}
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		if g, w := gv.Field(i).Interface(), wv.Field(i).Interface(); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: conference %s: %s = %s, want %s", what, want.ID, gv.Type().Field(i).Name, show(g), show(w))
		}
	}
}
