package console

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/store/sqlite"
)

// conferenceApp answers every call with a conference.
type conferenceApp struct{}

func (conferenceApp) Send(_ context.Context, w engine.Webhook) (engine.Reply, error) {
	return engine.Reply{Body: []byte(`<Response><Conference>room-1</Conference></Response>`), URL: w.Target.URL}, nil
}

func (conferenceApp) Notify(context.Context, engine.Webhook, func([]engine.Attempt)) error {
	return nil
}

// TestLegsOfAStoredConference: once a conference has completed, the
// engine keeps it in the store only; a member's legs are still the other
// calls that joined it.
func TestLegsOfAStoredConference(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store, err := sqlite.Open(ctx, sqlite.Memory)
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		const a, b = "+15554460001", "+15554460002"
		net := sim.New(engine.RealClock{}, map[string]sim.Script{a: {HangupAfter: 3 * time.Second}, b: {HangupAfter: 4 * time.Second}})
		eng, err := engine.New(engine.Config{Clock: engine.RealClock{}, Store: store, Sender: conferenceApp{}, Network: net,
			BaseURL: "http://voicehook.test/api/v2"})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer eng.Shutdown(ctx)
		var ids []string
		for _, to := range []string{a, b} {
			c, err := eng.CreateCall(ctx, engine.Call{AccountID: "9900000", ApplicationID: "04e88489-df02-4e34-a0ee-27a91849555f",
				From: "+15551112222", To: to, AnswerURL: "https://app.test/answer"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.CallID)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := eng.Live(); n != 0 {
			t.Fatalf("%d calls still live", n)
		}
		confs := eng.ListConferences(ctx, engine.ConferenceFilter{AccountID: "9900000"})
		if len(confs) != 1 || confs[0].CompletedTime.IsZero() {
			t.Fatalf("conferences: %+v, want one completed", confs)
		}
		con := &Console{cfg: Config{Engine: eng}}
		call, err := eng.GetCall(ctx, "9900000", ids[0])
		if err != nil {
			t.Fatal(err)
		}
		hist, err := eng.History(ctx, "9900000", ids[0])
		if err != nil {
			t.Fatal(err)
		}
		legs, err := con.legs(ctx, call, hist)
		if err != nil {
			t.Fatal(err)
		}
		if len(legs) != 1 || legs[0].CallID != ids[1] {
			var got []string
			for _, l := range legs {
				got = append(got, l.CallID)
			}
			t.Errorf("legs of %s: %v, want %s", ids[0], got, ids[1])
		}
	})
}
