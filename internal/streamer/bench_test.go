package streamer

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voicehook/voicehook/internal/engine"
)

// BenchmarkFeed100 feeds 100 streams (both tracks) at real-time pace, one
// goroutine ticking every 20 ms, for 3 s, to one loopback destination. It
// reports the process's CPU time (the destination's reading included) per
// stream-second, and the 99th percentile of the delay from Feed to the
// destination reading the frame. Run it with -benchtime=1x.
func BenchmarkFeed100(b *testing.B) {
	const (
		streams = 100
		run     = 3 * time.Second
		frames  = int(run/frameTime) + 10
	)
	for b.Loop() {
		fedAt := make([][]atomic.Int64, streams) // by stream, by sequence number
		for i := range fedAt {
			fedAt[i] = make([]atomic.Int64, frames+1)
		}
		var (
			mu       sync.Mutex
			delays   []time.Duration
			handlers sync.WaitGroup
			rejected atomic.Int64
		)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			handlers.Add(1)
			defer handlers.Done()
			i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
			if err != nil {
				return
			}
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			var mine []time.Duration
			key := []byte(`"sequenceNumber":`)
			for {
				_, data, err := c.Read(context.Background())
				if err != nil {
					break
				}
				k := bytes.Index(data, key)
				if k < 0 {
					continue
				}
				rest := data[k+len(key):]
				seq, _ := strconv.Atoi(string(rest[:bytes.IndexByte(rest, ',')]))
				if seq > 0 && seq <= frames {
					mine = append(mine, time.Duration(time.Now().UnixNano()-fedAt[i][seq].Load()))
				}
			}
			mu.Lock()
			delays = append(delays, mine...)
			mu.Unlock()
		}))
		s := New(Config{})
		var started sync.WaitGroup
		started.Add(streams)
		var live []engine.Stream
		for i := range streams {
			var once sync.Once
			st := s.Open(spec(fmt.Sprintf("ws%s/%d", srv.URL[len("http"):], i), engine.TrackInbound, engine.TrackOutbound),
				func(ev engine.StreamEvent) {
					if ev.Kind == engine.StreamRejected {
						rejected.Add(1)
						b.Log(ev.Reason)
					}
					if ev.Kind == engine.StreamStarted || ev.Kind == engine.StreamRejected {
						once.Do(started.Done)
					}
				})
			live = append(live, st)
		}
		started.Wait()

		frame := make([]int16, frameSamples)
		before := cpu()
		t0 := time.Now()
		tick := time.NewTicker(frameTime)
		fed := 0
		for seq := 1; time.Since(t0) < run; seq++ {
			<-tick.C
			fed += 2 * streams
			for i, st := range live {
				fedAt[i][seq].Store(time.Now().UnixNano())
				st.Feed(engine.TrackInbound, frame)
				st.Feed(engine.TrackOutbound, frame)
			}
		}
		tick.Stop()
		elapsed := time.Since(t0)
		for _, st := range live {
			st.Stop()
		}
		s.Close()
		used := cpu() - before
		srv.Close()
		handlers.Wait()
		if n := rejected.Load(); n > 0 {
			b.Fatalf("%d streams rejected", n)
		}

		slices.Sort(delays)
		if len(delays) == 0 {
			b.Fatal("no frame arrived")
		}
		b.ReportMetric(float64(used)/float64(time.Millisecond)/(streams*elapsed.Seconds()), "cpu-ms/stream-s")
		b.ReportMetric(float64(delays[len(delays)*99/100])/float64(time.Millisecond), "p99-ms")
		b.ReportMetric(float64(fed-len(delays)), "frames-lost")
	}
	b.ReportMetric(0, "ns/op")
}

// cpu is the CPU time the process has used.
func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPaced5Minutes runs one paced stream (both tracks) for 5
// minutes of a stepped clock to an in-memory destination, each tick
// waiting for its two frames to arrive: the wall time a paced stream's
// work takes. (testing/synctest bubbles need a *testing.T, so the clock
// here is stepped by hand; TestPacedFiveMinutes runs the same in a
// bubble.)
func BenchmarkPaced5Minutes(b *testing.B) {
	const ticks = int(5 * time.Minute / frameTime)
	for b.Loop() {
		got := make(chan struct{}, 2*ticks+10)
		n := newPipeNet(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			for {
				_, data, err := c.Read(context.Background())
				if err != nil {
					return
				}
				if bytes.Contains(data, []byte(`"media"`)) {
					got <- struct{}{}
				}
			}
		}))
		clock := &stepClock{now: time.Unix(0, 0)}
		s := New(Config{Client: n.client(), Clock: clock, TTS: fakeTTS{}})
		sp := spec("ws://stream.test/", engine.TrackInbound, engine.TrackOutbound) // only described: dialled in memory
		sp.Paced = true
		ready := make(chan struct{})
		st := s.Open(sp, func(ev engine.StreamEvent) {
			if ev.Kind == engine.StreamStarted {
				close(ready)
			}
		})
		<-ready
		t0 := time.Now()
		for i := range ticks {
			if i%500 == 0 {
				st.Say(engine.TrackInbound, engine.Playback{Prompts: []engine.Prompt{{Text: "2s"}}})
			}
			clock.step()
			<-got
			<-got
		}
		b.ReportMetric(float64(time.Since(t0))/float64(time.Millisecond), "wall-ms/run")
		st.Stop()
		s.Close()
		n.shutdown()
	}
	b.ReportMetric(0, "ns/op")
}

// stepClock is a clock whose time moves only when step fires its next
// timer, in the caller's goroutine.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*stepTimer
}

type stepTimer struct {
	c  *stepClock
	at time.Time
	f  func()
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) AfterFunc(d time.Duration, f func()) engine.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &stepTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *stepTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	i := slices.Index(t.c.timers, t)
	if i < 0 {
		return false
	}
	t.c.timers = slices.Delete(t.c.timers, i, i+1)
	return true
}

// step fires the earliest timer, if any.
func (c *stepClock) step() {
	c.mu.Lock()
	if len(c.timers) == 0 {
		c.mu.Unlock()
		return
	}
	i := 0
	for j, t := range c.timers {
		if t.at.Before(c.timers[i].at) {
			i = j
		}
	}
	t := c.timers[i]
	c.timers = slices.Delete(c.timers, i, i+1)
	if t.at.After(c.now) {
		c.now = t.at
	}
	c.mu.Unlock()
	t.f()
}
