package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// Background encodings. A recording whose file takes a while to make (an
// MP3 file) is kept by a goroutine of its own, tracked apart from the
// engine's other goroutines: Drain waits for the encodings still running
// (until its ctx ends) so that their recordingAvailable goes out, and
// Shutdown waits for them until its ctx ends before stopping them; an
// encoding stopped then keeps what it wrote as partial. An encoding runs
// on a context of its own, not cancelled by Shutdown's stop of the engine
// but by the end of that wait; the Recorder bounds the encoding itself.

// encodings tracks the background encodings. It is safe for concurrent
// use.
type encodings struct {
	wg     sync.WaitGroup
	ctx    context.Context // cancelled when Shutdown stops waiting
	cancel context.CancelFunc
}

// newEncodings returns the encodings of an engine whose context is ctx.
func newEncodings(ctx context.Context) *encodings {
	ectx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	return &encodings{ctx: ectx, cancel: cancel}
}

// encode runs keep in the background with the encodings' context; the
// engine's Shutdown waits for it.
func (e *Engine) encode(keep func(ctx context.Context)) {
	e.wg.Add(1)
	e.enc.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer e.enc.wg.Done()
		keep(e.enc.ctx)
	}()
}

// waitEncodings waits for the encodings running until ctx ends; it
// reports whether they all finished.
func (e *Engine) waitEncodings(ctx context.Context) bool {
	done := make(chan struct{})
	go func() { e.enc.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// stopEncodings cuts short the encodings still running and gives them
// keepGrace to keep what they wrote.
func (e *Engine) stopEncodings() {
	e.enc.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), keepGrace)
	defer cancel()
	if !e.waitEncodings(ctx) {
		e.log.Warn("recordings still being stored after their encodings were stopped", "waited", keepGrace)
	}
}

// keepGrace is how long Shutdown lets an encoding it stopped keep its
// partial file and record.
const keepGrace = 5 * time.Second

// queueLate queues w, a webhook of a call that its actor can no longer
// send (a recording's, once encoded after the call moved on or ended), in
// the call's durable outbox as the actor queues its own: written in the
// store with its history entry, delivered after the call's earlier
// webhooks, retried as Config.RetryWebhooks says, and, when the engine
// stopped first, delivered by the next Start. A webhook the store refuses
// (the call is gone, or another node owns it now) is sent once, unless
// the engine has stopped.
func (e *Engine) queueLate(w Webhook, log *slog.Logger) {
	detail, _ := callback.Encode(w.Event)
	entry := redacted(HistoryEntry{CallID: w.CallID, Time: e.cfg.Clock.Now(), Kind: "webhook",
		Summary: fmt.Sprintf("%s → %s %s", w.Event.Type(), method(w.Target.Method), w.Target.URL), Detail: detail})
	q, err := encodeQueued(w)
	if err == nil {
		var ids []int64
		ids, err = e.cfg.Store.Write(context.WithoutCancel(e.ctx), Write{History: []HistoryEntry{entry}, Enqueue: []QueuedWebhook{q}})
		if err == nil && len(ids) == 1 {
			e.changed(w.CallID)
			if e.ctx.Err() == nil {
				e.outboxFor(w.CallID).push(queued{id: ids[0], w: w})
			}
			return
		}
	}
	log.Warn("queue "+string(w.Event.Type())+" in the call's outbox; sending it once instead", "err", err)
	if e.ctx.Err() != nil {
		log.Warn(string(w.Event.Type())+" not sent: voicehook stopped first", "call_id", w.CallID)
		return
	}
	if err := e.cfg.Store.AppendHistory(e.ctx, entry); err != nil {
		log.Error("store a call's history", "call_id", w.CallID, "err", err)
	}
	e.changed(w.CallID)
	if err := e.notifyOnce(w); err != nil {
		log.Warn("send "+string(w.Event.Type()), "err", err)
	}
}
