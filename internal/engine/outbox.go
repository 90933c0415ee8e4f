package engine

import (
	"context"
	"sync"
)

// outbox delivers one call's asynchronous webhooks one at a time, in the
// order the call raised them, so that its disconnect is always the last
// webhook the app gets. It outlives the call's actor: the disconnect is
// queued as the call ends and delivered after.
type outbox struct {
	e      *Engine
	callID string
	mu     sync.Mutex
	queue  []Webhook
	busy   bool
}

// push queues w and starts delivery if nothing is in flight.
func (o *outbox) push(w Webhook) {
	o.mu.Lock()
	o.queue = append(o.queue, w)
	start := !o.busy
	o.busy = true
	o.mu.Unlock()
	if start {
		o.e.wg.Add(1)
		go o.run()
	}
}

// run delivers the queue, then ends. Notify returns once a webhook is
// queued with the sender; its done callback tells when it was delivered.
func (o *outbox) run() {
	defer o.e.wg.Done()
	for {
		o.mu.Lock()
		if len(o.queue) == 0 || o.e.ctx.Err() != nil {
			o.busy = false
			o.mu.Unlock()
			return
		}
		w := o.queue[0]
		o.queue = o.queue[1:]
		o.mu.Unlock()

		delivered := make(chan struct{})
		err := o.e.cfg.Sender.Notify(o.e.ctx, w, func(attempts []Attempt) {
			entries := attemptEntries(o.callID, attempts)
			log := o.e.log.With("call_id", o.callID)
			for _, e := range entries {
				log.Info(e.Summary, "kind", e.Kind)
			}
			// The call may be gone by now: write straight to the store.
			_ = o.e.cfg.Store.AppendHistory(context.WithoutCancel(o.e.ctx), entries...)
			close(delivered)
		})
		if err != nil {
			o.e.log.Error("queue webhook", "call_id", o.callID, "event", w.Event.Type(), "err", err)
			continue
		}
		select {
		case <-delivered:
		case <-o.e.ctx.Done():
		}
	}
}
