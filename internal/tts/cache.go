package tts

import (
	"container/list"
	"context"
	"errors"
	"sync"

	"github.com/voicehook/voicehook/internal/pcm"
)

// Cache is a Synthesizer that remembers what another one said, keyed by
// the whole Request, in a least-recently-used cache bounded by the total
// number of samples held. Concurrent requests for the same sentence wait
// for one synthesis; if that synthesis ends because its caller gave up,
// a waiter that has not given up tries again. Failures are not cached.
// A Cache is safe for concurrent use; the clips it returns are shared and
// must not be modified.
type Cache struct {
	next Synthesizer
	max  int

	mu       sync.Mutex
	total    int                       // samples held
	order    *list.List                // of *cached, most recent at the front
	entries  map[Request]*list.Element // the elements of order
	inflight map[Request]*flight
}

type cached struct {
	req  Request
	clip pcm.Clip
}

// flight is one synthesis under way; done closes when it has ended.
type flight struct {
	done      chan struct{}
	clip      pcm.Clip
	err       error
	abandoned bool // its caller's context ended
}

// NewCache returns a cache in front of s holding at most maxSamples
// samples in all (a minute of 22050 Hz audio is 1.3 million). A clip
// larger than that is returned but not kept; maxSamples ≤ 0 keeps nothing
// but still makes concurrent identical requests share one synthesis.
func NewCache(s Synthesizer, maxSamples int) *Cache {
	return &Cache{
		next:     s,
		max:      maxSamples,
		order:    list.New(),
		entries:  make(map[Request]*list.Element),
		inflight: make(map[Request]*flight),
	}
}

// Synthesize returns the cached clip for r, or synthesizes it.
func (c *Cache) Synthesize(ctx context.Context, r Request) (pcm.Clip, error) {
	for {
		c.mu.Lock()
		if e, ok := c.entries[r]; ok {
			c.order.MoveToFront(e)
			c.mu.Unlock()
			return e.Value.(*cached).clip, nil
		}
		if f, ok := c.inflight[r]; ok {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return pcm.Clip{}, ctx.Err()
			}
			if f.abandoned && ctx.Err() == nil {
				continue // its caller gave up; this one has not
			}
			return f.clip, f.err
		}
		f := &flight{done: make(chan struct{})}
		c.inflight[r] = f
		c.mu.Unlock()
		return c.synthesize(ctx, r, f)
	}
}

func (c *Cache) synthesize(ctx context.Context, r Request, f *flight) (clip pcm.Clip, err error) {
	finished := false
	defer func() {
		c.mu.Lock()
		delete(c.inflight, r)
		if finished && err == nil {
			c.add(r, clip)
		}
		c.mu.Unlock()
		f.clip, f.err = clip, err
		if !finished { // a panic on its way up: tell the waiters
			f.err = errors.New("tts: synthesis panicked")
		}
		close(f.done)
	}()
	clip, err = c.next.Synthesize(ctx, r)
	f.abandoned = err != nil && ctx.Err() != nil
	finished = true
	return clip, err
}

// add keeps clip under r and evicts the least recently used clips until
// the total fits; c.mu is held.
func (c *Cache) add(r Request, clip pcm.Clip) {
	n := len(clip.Samples)
	if n > c.max {
		return
	}
	c.entries[r] = c.order.PushFront(&cached{req: r, clip: clip})
	c.total += n
	for c.total > c.max {
		e := c.order.Back()
		old := c.order.Remove(e).(*cached)
		delete(c.entries, old.req)
		c.total -= len(old.clip.Samples)
	}
}

// Len returns how many clips the cache holds and their total samples.
func (c *Cache) Len() (clips, samples int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len(), c.total
}
