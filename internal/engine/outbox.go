package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// The outbox is the durable queue of asynchronous webhooks (disconnect,
// dtmf, …). A webhook is queued in the store in the same write as the state
// it reports, delivered, then marked delivered; after a crash or a stop,
// Start delivers what is left. Delivery is per call and in order, so that a
// call's disconnect is always the last webhook the app gets.
//
// voicehook keeps this queue in its own store rather than in a job-queue
// library such as River: a call's webhooks must go out in order (River's
// open-source edition has no ordered or per-key queues) and must commit in
// the very transaction of the call's state, which the SQLite store's
// group-commit writer owns.

// outbox delivers one call's queued webhooks, one at a time, in order. It
// outlives the call's actor.
type outbox struct {
	e      *Engine
	callID string
	mu     sync.Mutex
	queue  []queued
	busy   bool
	// sending is the webhook being delivered, taken from queue, while
	// current is set.
	sending queued
	current bool
}

// queued is a webhook in the outbox, with its store id and when the
// outbox got it.
type queued struct {
	id int64
	w  Webhook
	at time.Time
}

// outboxFor returns the call's outbox, creating it.
func (e *Engine) outboxFor(callID string) *outbox {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.outboxes[callID]
	if o == nil {
		o = &outbox{e: e, callID: callID}
		e.outboxes[callID] = o
	}
	return o
}

// release forgets the outbox once it is idle and its call has ended.
func (e *Engine) release(o *outbox) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.busy && len(o.queue) == 0 && e.live[o.callID] == nil {
		delete(e.outboxes, o.callID)
	}
}

// push queues stored webhooks and starts delivery if none is in flight.
func (o *outbox) push(items ...queued) {
	if len(items) == 0 {
		return
	}
	now := o.e.cfg.Clock.Now()
	for i := range items {
		items[i].at = now
	}
	o.mu.Lock()
	o.queue = append(o.queue, items...)
	start := !o.busy
	o.busy = true
	o.mu.Unlock()
	if start {
		o.e.wg.Add(1)
		go o.run()
	}
}

func (o *outbox) run() {
	defer o.e.wg.Done()
	defer o.e.release(o)
	for {
		o.mu.Lock()
		o.sending, o.current = queued{}, false
		if len(o.queue) == 0 || o.e.ctx.Err() != nil {
			o.busy = false
			o.mu.Unlock()
			return
		}
		q := o.queue[0]
		o.queue = o.queue[1:]
		o.sending, o.current = q, true
		o.mu.Unlock()
		o.deliver(q)
	}
}

// stats reports how many webhooks the outbox holds, the one being sent
// included, and when the oldest was queued.
func (o *outbox) stats() (int, time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(o.queue)
	switch {
	case o.current:
		return n + 1, o.sending.at
	case n > 0:
		return n, o.queue[0].at
	}
	return 0, time.Time{}
}

// Persistent retries (Config.RetryWebhooks): the first retry after
// retryFirst, doubling up to retryMax, for at most retryFor.
const (
	retryFirst = time.Second
	retryMax   = 10 * time.Minute
	retryFor   = 24 * time.Hour
)

// deliver sends one webhook, retrying as configured, and marks it delivered
// unless the engine stopped before it was: then the next Start sends it.
//
// An address the outbound guard refused is not retried, even with
// RetryWebhooks: the guard's rule changes only with a restart, and the
// call's later webhooks wait behind this one. It is given up at once, like
// a webhook that failed for good; the attempt's error names the flag
// that allows the address.
func (o *outbox) deliver(q queued) {
	log := o.e.log.With("call_id", o.callID)
	first := o.e.cfg.Clock.Now()
	wait := retryFirst
	for {
		attempts, ok, owned := o.send(q.w)
		if !owned {
			// Another engine has the call: it sends this webhook and
			// those behind it, from the store.
			o.mu.Lock()
			o.queue = nil
			o.mu.Unlock()
			return
		}
		if o.e.ctx.Err() != nil && !ok {
			return // stopped mid-delivery: it stays queued
		}
		if ok || !o.e.cfg.RetryWebhooks || refused(attempts) || o.e.cfg.Clock.Now().Sub(first) > retryFor {
			if !ok && len(attempts) > 0 {
				log.Warn("webhook not delivered", "event", q.w.Event.Type(), "err", attempts[len(attempts)-1].Err)
			}
			break
		}
		log.Info(fmt.Sprintf("retrying %s in %v", q.w.Event.Type(), wait), "kind", "attempt")
		if !o.sleep(wait) {
			return
		}
		wait = min(wait*2, retryMax)
	}
	if err := o.e.cfg.Store.Delivered(context.WithoutCancel(o.e.ctx), q.id); err != nil {
		log.Error("mark webhook delivered", "err", err)
	}
}

// send makes one delivery (with the sender's own retry rule) and reports
// its attempts, whether the last one succeeded, and whether the engine
// still owns the call (ErrNotOwner).
func (o *outbox) send(w Webhook) (attempts []Attempt, ok, owned bool) {
	done := make(chan []Attempt, 1)
	if err := o.e.cfg.Sender.Notify(o.e.ctx, w, func(a []Attempt) { done <- a }); err != nil {
		o.e.log.Error("queue webhook", "call_id", o.callID, "event", w.Event.Type(), "err", err)
		return nil, false, !errors.Is(err, ErrNotOwner)
	}
	select {
	case attempts = <-done:
	case <-o.e.ctx.Done():
		return nil, false, true
	}
	o.e.attempted(w.Event.Type(), attempts)
	entries := attemptEntries(o.callID, attempts)
	log := o.e.log.With("call_id", o.callID)
	for i, e := range entries {
		entries[i] = redacted(e)
		log.Info(entries[i].Summary, "kind", e.Kind)
	}
	if o.e.cfg.Store.AppendHistory(context.WithoutCancel(o.e.ctx), entries...) == nil {
		o.e.changed(o.callID)
	}
	ok = len(attempts) == 0 || attempts[len(attempts)-1].Err == ""
	return attempts, ok, true
}

// refused reports whether the last attempt was refused by the outbound
// guard.
func refused(attempts []Attempt) bool {
	return len(attempts) > 0 && attempts[len(attempts)-1].Outcome == OutcomeRefused
}

// sleep waits d on the engine's clock; false if the engine stopped.
func (o *outbox) sleep(d time.Duration) bool {
	ch := make(chan struct{})
	t := o.e.cfg.Clock.AfterFunc(d, func() { close(ch) })
	select {
	case <-ch:
		return true
	case <-o.e.ctx.Done():
		t.Stop()
		return false
	}
}

// stamp gives a webhook that is about to leave the engine its id (see
// Webhook.ID) and owner, unless it has them: a webhook keeps its id from
// its first attempt to its last.
func stamp(w Webhook, accountID, applicationID string) Webhook {
	if w.ID == "" {
		w.ID = NewEventID()
	}
	if w.AccountID == "" && w.ApplicationID == "" {
		w.AccountID, w.ApplicationID = accountID, applicationID
	}
	return w
}

// storedWebhook is how a queued webhook is kept in the store.
// Its ID is in QueuedWebhook.EventID, beside the bytes.
type storedWebhook struct {
	CallID        string          `json:"callId"`
	AccountID     string          `json:"accountId,omitempty"`
	ApplicationID string          `json:"applicationId,omitempty"`
	Target        Target          `json:"target"`
	Timeout       time.Duration   `json:"timeout"`
	Event         json.RawMessage `json:"event"`
}

// encodeQueued turns a webhook into the bytes the store keeps.
func encodeQueued(w Webhook) (QueuedWebhook, error) {
	ev, err := callback.Encode(w.Event)
	if err != nil {
		return QueuedWebhook{}, err
	}
	data, err := json.Marshal(storedWebhook{CallID: w.CallID, AccountID: w.AccountID, ApplicationID: w.ApplicationID,
		Target: w.Target, Timeout: w.Timeout, Event: ev})
	return QueuedWebhook{CallID: w.CallID, EventID: w.ID, Data: data}, err
}

// decodeQueued reads a webhook back from the store.
func decodeQueued(q QueuedWebhook) (Webhook, error) {
	var s storedWebhook
	if err := json.Unmarshal(q.Data, &s); err != nil {
		return Webhook{}, fmt.Errorf("queued webhook %d: %w", q.ID, err)
	}
	ev, err := callback.Decode(s.Event)
	if err != nil {
		return Webhook{}, fmt.Errorf("queued webhook %d: %w", q.ID, err)
	}
	return Webhook{ID: q.EventID, CallID: s.CallID, AccountID: s.AccountID, ApplicationID: s.ApplicationID,
		Event: ev, Target: s.Target, Timeout: s.Timeout}, nil
}
