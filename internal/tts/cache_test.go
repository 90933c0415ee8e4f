package tts_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/tts"
)

// fake says each request as a clip of len(Text) samples, counting calls;
// with a gate, each call waits for it to close first.
type fake struct {
	calls atomic.Int32
	gate  chan struct{}
	fail  error
}

func (f *fake) Synthesize(ctx context.Context, r tts.Request) (pcm.Clip, error) {
	f.calls.Add(1)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return pcm.Clip{}, ctx.Err()
		}
	}
	if f.fail != nil {
		return pcm.Clip{}, f.fail
	}
	return pcm.Clip{Rate: 8000, Samples: make([]int16, len(r.Text))}, nil
}

func TestCacheOneSynthesisForConcurrentRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fake{gate: make(chan struct{})}
		c := tts.NewCache(f, 1000)
		req := tts.Request{Text: "Welcome to the test line", Voice: "susan"}
		var wg sync.WaitGroup
		clips := make([]pcm.Clip, 20)
		errs := make([]error, 20)
		for i := range 20 {
			wg.Go(func() { clips[i], errs[i] = c.Synthesize(context.Background(), req) })
		}
		synctest.Wait() // all 20 are waiting: one in the engine, the rest for it
		if n := f.calls.Load(); n != 1 {
			t.Fatalf("%d syntheses under way for one sentence", n)
		}
		close(f.gate)
		wg.Wait()
		for i := range 20 {
			if errs[i] != nil || len(clips[i].Samples) != len(req.Text) {
				t.Errorf("caller %d: %d samples, %v", i, len(clips[i].Samples), errs[i])
			}
		}
		if _, err := c.Synthesize(context.Background(), req); err != nil || f.calls.Load() != 1 {
			t.Errorf("a later request: %v, %d syntheses in all", err, f.calls.Load())
		}
		// The key is the whole request.
		for _, other := range []tts.Request{
			{Text: req.Text, Voice: "paul"},
			{Text: req.Text, Voice: "susan", Locale: "en_US"},
			{SSML: req.Text, Voice: "susan"},
		} {
			c.Synthesize(context.Background(), other)
		}
		if n := f.calls.Load(); n != 4 {
			t.Errorf("%d syntheses for 4 different requests", n)
		}
	})
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	f := &fake{}
	c := tts.NewCache(f, 100)
	ctx := context.Background()
	say := func(text string) {
		t.Helper()
		if _, err := c.Synthesize(ctx, tts.Request{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	a, b, d := string(make([]byte, 40)), string(make([]byte, 41)), string(make([]byte, 42))
	say(a)
	say(b)
	say(a) // a is now the most recent
	if n := f.calls.Load(); n != 2 {
		t.Fatalf("%d syntheses for a, b, a", n)
	}
	say(d) // 40+41+42 > 100: b goes
	if clips, samples := c.Len(); clips != 2 || samples != 82 {
		t.Errorf("holding %d clips of %d samples, want 2 of 82", clips, samples)
	}
	say(a)
	if n := f.calls.Load(); n != 3 {
		t.Errorf("a was evicted (%d syntheses)", n)
	}
	say(b)
	if n := f.calls.Load(); n != 4 {
		t.Errorf("b was kept (%d syntheses)", n)
	}

	big := string(make([]byte, 101))
	say(big)
	say(big)
	if n := f.calls.Load(); n != 6 {
		t.Errorf("a clip larger than the cache was kept (%d syntheses)", n)
	}
	if _, samples := c.Len(); samples > 100 {
		t.Errorf("holding %d samples, more than 100", samples)
	}
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	boom := errors.New("engine exploded")
	f := &fake{fail: boom}
	c := tts.NewCache(f, 1000)
	for range 2 {
		if _, err := c.Synthesize(context.Background(), tts.Request{Text: "hi"}); !errors.Is(err, boom) {
			t.Fatalf("error %v, want %v", err, boom)
		}
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("%d syntheses for two failing requests, want 2", n)
	}
}

func TestCacheWaiterOutlivesAbandonedSynthesis(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fake{gate: make(chan struct{})}
		c := tts.NewCache(f, 1000)
		req := tts.Request{Text: "hold please"}
		leaderCtx, hangUp := context.WithCancel(context.Background())
		var leaderErr, waiterErr error
		var waiterClip pcm.Clip
		var wg sync.WaitGroup
		wg.Go(func() { _, leaderErr = c.Synthesize(leaderCtx, req) })
		synctest.Wait()
		wg.Go(func() { waiterClip, waiterErr = c.Synthesize(context.Background(), req) })
		synctest.Wait()
		hangUp() // the first caller's call ends mid-synthesis
		synctest.Wait()
		close(f.gate)
		wg.Wait()
		if !errors.Is(leaderErr, context.Canceled) {
			t.Errorf("first caller: %v, want context.Canceled", leaderErr)
		}
		if waiterErr != nil || len(waiterClip.Samples) != len(req.Text) {
			t.Errorf("second caller: %d samples, %v", len(waiterClip.Samples), waiterErr)
		}
		if n := f.calls.Load(); n != 2 {
			t.Errorf("%d syntheses, want 2 (the abandoned one and the retry)", n)
		}
	})
}

func TestCacheWaiterGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fake{gate: make(chan struct{})}
		c := tts.NewCache(f, 1000)
		req := tts.Request{Text: "hold please"}
		var wg sync.WaitGroup
		wg.Go(func() { c.Synthesize(context.Background(), req) })
		synctest.Wait()
		ctx, cancel := context.WithCancel(context.Background())
		var err error
		wg.Go(func() { _, err = c.Synthesize(ctx, req) })
		synctest.Wait()
		cancel()
		synctest.Wait()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("waiter whose call ended: %v, want context.Canceled", err)
		}
		close(f.gate)
		wg.Wait()
	})
}
