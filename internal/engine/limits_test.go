package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
)

// longCall keeps an answered call live for ten minutes.
const longCall = `<Response><Pause duration="600"/></Response>`

// limitedHarness is an engine whose account 9900000 has lim, with calls
// that answer and then stay up (answerUrl) unless the test's app says
// otherwise.
func limitedHarness(t *testing.T, lim engine.Limits, app map[string]string) *harness {
	if app == nil {
		app = map[string]string{"https://app.test/answer": longCall}
	}
	return newHarnessWith(t, nil, replies(app), func(c *engine.Config) {
		c.Limits = func(account string) engine.Limits {
			if account == "9900000" {
				return lim
			}
			return engine.Limits{}
		}
	})
}

// record returns a call's stored record.
func (h *harness) record(id string) *engine.Call {
	h.t.Helper()
	c, err := h.eng.GetCall(context.Background(), "9900000", id)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// disconnects returns the disconnects delivered, by call id.
func (h *harness) disconnects() map[string][]*callback.Disconnect {
	out := map[string][]*callback.Disconnect{}
	for _, d := range h.app.events() {
		if ev, ok := d.event.(*callback.Disconnect); ok {
			out[ev.CallID] = append(out[ev.CallID], ev)
		}
	}
	return out
}

// limitError returns err as an ELimit engine error, or fails.
func limitError(t *testing.T, err error, wantMsg string) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) || e.Code != engine.ELimit || e.Msg != wantMsg {
		t.Fatalf("error %v, want a limit error %q", err, wantMsg)
	}
	if e.RetryAfter < time.Second {
		t.Errorf("RetryAfter %v, want at least a second", e.RetryAfter)
	}
	return e
}

// At 5 calls per second, 12 calls created at once start 5, 5 and 2 in
// three seconds; those that wait are queued with an enqueuedTime and no
// startTime until they start.
func TestLimitsWindowOfStarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := limitedHarness(t, engine.Limits{CallsPerSecond: 5, ConcurrentCalls: 100}, nil)
		defer h.close()
		t0 := time.Now()
		var ids []string
		for i := range 12 {
			ids = append(ids, h.call(fmt.Sprintf("+1555333%04d", i), nil))
		}
		synctest.Wait()
		if cur, capacity := h.eng.QueueStats("9900000"); cur != 7 || capacity != 1500 {
			t.Errorf("queue %d of %d, want 7 of 1500", cur, capacity)
		}
		for i, id := range ids {
			c := h.record(id)
			queued := i >= 5
			if queued != (c.State == engine.StateQueued) {
				t.Errorf("call %d: state %s, want queued %v", i, c.State, queued)
			}
			if queued && (!c.StartTime.IsZero() || !c.EnqueuedTime.Equal(t0)) {
				t.Errorf("queued call %d: startTime %v enqueuedTime %v, want none and %v", i, c.StartTime, c.EnqueuedTime, t0)
			}
			if !queued && (!c.StartTime.Equal(t0) || !c.EnqueuedTime.IsZero()) {
				t.Errorf("call %d: startTime %v enqueuedTime %v, want %v and none", i, c.StartTime, c.EnqueuedTime, t0)
			}
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		perSecond := map[time.Duration]int{}
		for _, id := range ids {
			c := h.record(id)
			if c.StartTime.IsZero() {
				t.Fatalf("call %s never started (%s)", id, c.State)
			}
			perSecond[c.StartTime.Sub(t0)]++
		}
		if want := map[time.Duration]int{0: 5, time.Second: 5, 2 * time.Second: 2}; fmt.Sprint(perSecond) != fmt.Sprint(want) {
			t.Errorf("starts by second %v, want %v", perSecond, want)
		}
		if cur, _ := h.eng.QueueStats("9900000"); cur != 0 {
			t.Errorf("queue %d after all started, want 0", cur)
		}
	})
}

// Queued calls start by priority (1 first), then in the order created.
func TestLimitsPriorityOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := limitedHarness(t, engine.Limits{CallsPerSecond: 1}, nil)
		defer h.close()
		first := h.call("+15553330100", nil)
		prios := []int{5, 3, 1, 0, 3, 2}
		ids := map[string]string{}
		for i, p := range prios {
			id := h.call(fmt.Sprintf("+155533302%02d", i), func(c *engine.Call) { c.Priority = p })
			ids[id] = fmt.Sprintf("#%d(p%d)", i, p)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if h.record(first).State == engine.StateQueued {
			t.Fatal("the first call is queued")
		}
		type started struct {
			at   time.Time
			name string
		}
		var order []started
		for id, name := range ids {
			order = append(order, started{h.record(id).StartTime, name})
		}
		slices.SortFunc(order, func(a, b started) int { return a.at.Compare(b.at) })
		var got []string
		for _, s := range order {
			got = append(got, s.name)
		}
		// Priority 0 is unset: 5, the default; equal priorities go in creation order.
		want := []string{"#2(p1)", "#5(p2)", "#1(p3)", "#4(p3)", "#0(p5)", "#3(p0)"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("start order %v, want %v", got, want)
		}
		for i := 1; i < len(order); i++ {
			if order[i].at.Sub(order[i-1].at) != time.Second {
				t.Errorf("starts %v apart, want one a second", order[i].at.Sub(order[i-1].at))
			}
		}
	})
}

// A queue holding CallsPerSecond × 300 calls refuses the next with the
// rate limit error and when to retry.
func TestLimitsQueueCapacity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := limitedHarness(t, engine.Limits{CallsPerSecond: 1}, map[string]string{"https://app.test/answer": hangup})
		defer h.close()
		for i := range 301 {
			h.call(fmt.Sprintf("+1555444%04d", i), nil)
		}
		if cur, capacity := h.eng.QueueStats("9900000"); cur != 300 || capacity != 300 {
			t.Fatalf("queue %d of %d, want 300 of 300", cur, capacity)
		}
		_, err := h.eng.CreateCall(context.Background(), engine.Call{AccountID: "9900000", From: "+15551112222", To: "+15554449999",
			AnswerURL: "https://app.test/answer"})
		limitError(t, err, "Account call creation rate limit exceeded")
		// A second later one has left the queue: there is room again.
		time.Sleep(1100 * time.Millisecond)
		h.call("+15554449998", nil)
	})
}

// With the window free and the queue empty, a call beyond the concurrent
// limit is refused at once (429), and an inbound call is refused too.
func TestLimitsConcurrentRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := limitedHarness(t, engine.Limits{ConcurrentCalls: 2}, nil)
		defer h.close()
		h.call("+15553330300", nil)
		h.call("+15553330301", nil)
		_, err := h.eng.CreateCall(context.Background(), engine.Call{AccountID: "9900000", From: "+15551112222", To: "+15553330302",
			AnswerURL: "https://app.test/answer"})
		limitError(t, err, "Account concurrent call limit exceeded")
		if _, err := h.eng.InboundCall(context.Background(), engine.Inbound{AccountID: "9900000", From: "+15557770000", To: "+15550001000"}); !errors.Is(err, engine.ErrAccountLimit) {
			t.Errorf("an inbound call beyond the limit: %v, want ErrAccountLimit", err)
		}
		// Another account has no limits.
		if _, err := h.eng.CreateCall(context.Background(), engine.Call{AccountID: "9900001", From: "+15551112222", To: "+15553330303",
			AnswerURL: "https://app.test/answer"}); err != nil {
			t.Errorf("a call of an account without limits: %v", err)
		}
	})
}

// A queued call whose turn comes while the account has as many live calls
// as it may ends with account-limit, with a message and an error id.
func TestLimitsDequeuedAtConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := limitedHarness(t, engine.Limits{CallsPerSecond: 1, ConcurrentCalls: 1}, nil)
		defer h.close()
		live := h.call("+15553330400", nil)
		queued := h.call("+15553330401", nil)
		if c := h.record(queued); c.State != engine.StateQueued {
			t.Fatalf("second call %s, want queued", c.State)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		got := h.disconnects()[queued]
		if len(got) != 1 {
			t.Fatalf("%d disconnects of the queued call, want 1", len(got))
		}
		d := got[0]
		if d.Cause != callback.CauseAccountLimit || d.ErrorMessage == nil || *d.ErrorMessage != "Account concurrent call limit exceeded" ||
			d.ErrorID == nil || *d.ErrorID == "" {
			t.Errorf("disconnect %s %v %v, want account-limit, the concurrent limit and an error id", d.Cause, d.ErrorMessage, d.ErrorID)
		}
		if !d.StartTime.IsZero() {
			t.Errorf("a call that never started has startTime %v", d.StartTime)
		}
		if c := h.record(live); c.State != engine.StateAnswered {
			t.Errorf("the live call is %s", c.State)
		}
	})
}

// A queued call can be cancelled (cause cancel, one disconnect, out of the
// queue) and nothing else: a redirect or new BXML is a conflict.
func TestLimitsQueuedCallUpdates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := limitedHarness(t, engine.Limits{CallsPerSecond: 1}, nil)
		defer h.close()
		h.call("+15553330500", nil)
		queued := h.call("+15553330501", nil)
		ctx := context.Background()
		err := h.eng.UpdateCall(ctx, "9900000", queued, engine.Update{Redirect: engine.Target{URL: "https://app.test/answer"}})
		if engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("redirect of a queued call: %v, want a conflict", err)
		}
		if err := h.eng.UpdateCallBXML(ctx, "9900000", queued, nil); engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("new BXML for a queued call: %v, want a conflict", err)
		}
		err = h.eng.UpdateRecordingState(ctx, "9900000", queued, true)
		if engine.ErrorCode(err) != engine.EConflict || !strings.Contains(err.Error(), "cannot be modified in its current state") {
			t.Errorf("pausing the recording of a queued call: %v, want the not-modifiable conflict", err)
		}
		if err := h.eng.UpdateCall(ctx, "9900000", queued, engine.Update{Complete: true}); err != nil {
			t.Fatalf("cancel a queued call: %v", err)
		}
		synctest.Wait()
		if cur, _ := h.eng.QueueStats("9900000"); cur != 0 {
			t.Errorf("queue %d after the cancel, want 0", cur)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		got := h.disconnects()[queued]
		if len(got) != 1 || got[0].Cause != callback.CauseCancel {
			t.Fatalf("disconnects of the cancelled call: %d, want one, cause cancel", len(got))
		}
		if c := h.record(queued); !c.StartTime.IsZero() || c.DisconnectCause != callback.CauseCancel {
			t.Errorf("cancelled call: startTime %v, cause %s", c.StartTime, c.DisconnectCause)
		}
		// A second hang-up just after the end is taken and changes nothing
		// (engine.CompletedGrace); once the grace is over it is a conflict.
		if err := h.eng.UpdateCall(ctx, "9900000", queued, engine.Update{Complete: true}); err != nil {
			t.Errorf("cancel again at once: %v, want nil (CompletedGrace)", err)
		}
		time.Sleep(engine.CompletedGrace)
		if err := h.eng.UpdateCall(ctx, "9900000", queued, engine.Update{Complete: true}); engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("cancel again after the grace: %v, want a conflict", err)
		}
		if got := h.disconnects()[queued]; len(got) != 1 {
			t.Errorf("disconnects after two more hang-ups: %d, want still one", len(got))
		}
	})
}

// Calls waiting in the queue when the engine drains end at once, like
// the live calls the drain ends (cause error, one disconnect each): the
// engine takes no more calls, so they would never start.
func TestLimitsDrainEndsQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := limitedHarness(t, engine.Limits{CallsPerSecond: 1}, nil)
		defer h.close()
		live := h.call("+15553330600", nil)
		queued := []string{h.call("+15553330601", nil), h.call("+15553330602", nil)}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if ended := h.eng.Drain(ctx); ended != 1 {
			t.Errorf("Drain ended %d calls after its wait, want 1 (the live one; the queued ended at once)", ended)
		}
		ends := map[string][]time.Duration{}
		for _, d := range h.app.events() {
			if ev, ok := d.event.(*callback.Disconnect); ok {
				if ev.Cause != callback.CauseError {
					t.Errorf("call %s ended with %s, want error", ev.CallID, ev.Cause)
				}
				ends[ev.CallID] = append(ends[ev.CallID], d.at)
			}
		}
		for _, id := range queued {
			if len(ends[id]) != 1 || ends[id][0] > 100*time.Millisecond {
				t.Errorf("disconnects of a queued call %v after it was created, want one, at once", ends[id])
			}
			if c := h.record(id); !c.StartTime.IsZero() {
				t.Errorf("a queued call started while draining at %v", c.StartTime)
			}
		}
		if len(ends[live]) != 1 || ends[live][0] < 10*time.Second {
			t.Errorf("disconnects of the live call %v, want one when the drain's 10 s were up", ends[live])
		}
		if cur, _ := h.eng.QueueStats("9900000"); cur != 0 {
			t.Errorf("queue %d after the drain, want 0", cur)
		}
	})
}

// transferComplete of a <Transfer> a limit refuses: no leg is placed, the
// cause is account-limit, with the reason and an error id, and the BXML
// goes on.
func TestLimitsTransferRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		lim  engine.Limits
		want string
	}{
		{"rate", engine.Limits{CallsPerSecond: 1}, "Account call creation rate limit exceeded"},
		{"concurrent calls", engine.Limits{ConcurrentCalls: 1}, "Account concurrent call limit exceeded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// The caller answers at 1 s, pauses half a second and is
				// transferred. With a rate of 1, a second call created at
				// 0.5 s waits and starts at 1 s: the window is full at 1.5 s.
				h := limitedHarness(t, c.lim, map[string]string{
					"https://app.test/answer": `<Response><Pause duration="0.5"/><Transfer transferCompleteUrl="/tc"><PhoneNumber>+15550000000</PhoneNumber></Transfer></Response>`,
					"https://app.test/tc":     `<Response><SpeakSentence>Sorry</SpeakSentence></Response>`,
					"https://app.test/long":   longCall,
				})
				defer h.close()
				a := h.call("+15553330700", nil)
				if c.lim.CallsPerSecond > 0 {
					time.Sleep(500 * time.Millisecond)
					h.call("+15553330701", func(c *engine.Call) { c.AnswerURL = "https://app.test/long" })
				}
				h.settle(time.Minute)
				var tc *callback.TransferComplete
				for _, d := range h.app.events() {
					if ev, ok := d.event.(*callback.TransferComplete); ok {
						tc = ev
					}
				}
				if tc == nil {
					t.Fatal("no transferComplete")
				}
				if tc.CallID != a || tc.Cause != callback.CauseAccountLimit || tc.ErrorMessage == nil || *tc.ErrorMessage != c.want ||
					tc.ErrorID == nil || *tc.ErrorID == "" {
					t.Errorf("transferComplete %s %v %v, want account-limit, %q and an error id", tc.Cause, tc.ErrorMessage, tc.ErrorID, c.want)
				}
				calls, _ := h.eng.ListCalls(context.Background(), engine.CallFilter{})
				for _, cl := range calls {
					if cl.ParentCallID != "" {
						t.Errorf("a leg was placed: %s to %s", cl.CallID, cl.To)
					}
				}
				if got := h.disconnects()[a]; len(got) != 1 || got[0].Cause != callback.CauseHangup {
					t.Errorf("the caller's disconnects %v, want one, hangup after the transferComplete BXML", got)
				}
			})
		})
	}
}

// A <Forward> is never refused by the limits, but its leg counts.
func TestLimitsForwardCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := limitedHarness(t, engine.Limits{ConcurrentCalls: 1}, map[string]string{
			"https://app.test/initiate": `<Response><Forward to="+15550000000"/></Response>`,
		})
		defer h.close()
		in := h.inbound("+15557770000")
		time.Sleep(3 * time.Second)
		synctest.Wait()
		calls, _ := h.eng.ListCalls(context.Background(), engine.CallFilter{})
		var leg *engine.Call
		for _, c := range calls {
			if c.ParentCallID == in {
				leg = c
			}
		}
		if leg == nil || leg.State != engine.StateAnswered {
			t.Fatalf("the forwarded leg: %+v, want it placed and answered", leg)
		}
		// Two live calls against a limit of one: a new call is refused.
		_, err := h.eng.CreateCall(context.Background(), engine.Call{AccountID: "9900000", From: "+15551112222", To: "+15553330800",
			AnswerURL: "https://app.test/answer"})
		limitError(t, err, "Account concurrent call limit exceeded")
	})
}

// transferComplete carries an error id with its message on every failure.
func TestTransferCompleteErrorID(t *testing.T) {
	for _, c := range []struct {
		to    string
		cause callback.Cause
	}{{"+15550000486", callback.CauseBusy}, {"+15550000408", callback.CauseTimeout}, {"+15550000603", callback.CauseRejected}} {
		t.Run(string(c.cause), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, nil, replies(map[string]string{
					"https://app.test/answer": `<Response><Transfer callTimeout="3" transferCompleteUrl="/tc"><PhoneNumber transferDisconnectUrl="/td">` + c.to + `</PhoneNumber></Transfer></Response>`,
					"https://app.test/tc":     hangup,
				}))
				defer h.close()
				h.call("+15550000000", nil)
				h.settle(time.Minute)
				time.Sleep(time.Second)
				var tc *callback.TransferComplete
				var td *callback.TransferDisconnect
				for _, d := range h.app.events() {
					switch ev := d.event.(type) {
					case *callback.TransferComplete:
						tc = ev
					case *callback.TransferDisconnect:
						td = ev
					}
				}
				if tc == nil || td == nil {
					t.Fatal("no transferComplete or transferDisconnect")
				}
				if tc.Cause != c.cause || tc.ErrorMessage == nil || *tc.ErrorMessage == "" || tc.ErrorID == nil || len(*tc.ErrorID) != 36 {
					t.Errorf("transferComplete %s %v %v, want %s with a message and a uuid", tc.Cause, tc.ErrorMessage, tc.ErrorID, c.cause)
				}
				if td.ErrorID != nil && tc.ErrorID != nil && *td.ErrorID != *tc.ErrorID {
					t.Errorf("transferComplete errorId %s, the leg's disconnect %s: want the same", *tc.ErrorID, *td.ErrorID)
				}
			})
		})
	}
}

// Calls waiting in the queue are not carried yet: they do not fill the
// node for --max-calls.
func TestLimitsQueuedNotCarried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarnessWith(t, nil, replies(map[string]string{"https://app.test/answer": longCall, "https://app.test/initiate": longCall}), func(c *engine.Config) {
			c.MaxCalls = 2
			c.Limits = func(string) engine.Limits { return engine.Limits{CallsPerSecond: 1} }
		})
		defer h.close()
		h.call("+15553330900", nil)
		var queued []string
		for i := range 3 {
			queued = append(queued, h.call(fmt.Sprintf("+1555333091%d", i), nil))
		}
		// An inbound call to a node carrying 1 of 2 calls, 3 queued, is
		// taken (h.inbound fails the test otherwise).
		h.inbound("+15557770000")
		// Now the node is full: the queued calls, dequeued, end as a
		// createCall beyond --max-calls does.
		time.Sleep(5 * time.Second)
		synctest.Wait()
		ends := h.disconnects()
		for i := range 3 {
			id := queued[i]
			if got := ends[id]; len(got) != 1 || got[0].Cause != callback.CauseNodeCapacityExceeded {
				t.Errorf("queued call %d, dequeued on a full node: %v, want one disconnect, node-capacity-exceeded", i, got)
			}
		}
	})
}
