package server

import (
	"testing"
	"time"
)

func TestSweepEvery(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		keeps []time.Duration
		want  time.Duration
	}{
		{[]time.Duration{DefaultKeepCalls, DefaultKeepRecordings}, time.Hour}, // a tenth of 7 days is more than an hour
		{[]time.Duration{5 * time.Hour, KeepForever}, 30 * time.Minute},
		{[]time.Duration{KeepForever, 30 * day}, time.Hour},
		{[]time.Duration{time.Second, 5 * time.Second}, time.Second}, // the floor
		{[]time.Duration{20 * time.Second, 10 * time.Second}, time.Second},
		{[]time.Duration{50 * time.Second, 40 * time.Second}, 4 * time.Second},
		{[]time.Duration{KeepForever, KeepForever}, 0}, // no sweep
	} {
		if got := sweepEvery(c.keeps...); got != c.want {
			t.Errorf("sweepEvery(%v) = %v; want %v", c.keeps, got, c.want)
		}
	}
}

func TestRetentionDefaults(t *testing.T) {
	c := Config{KeepRecordings: -5 * time.Second}
	c.defaultRetention()
	if c.KeepCalls != 7*24*time.Hour || c.KeepRecordings != KeepForever {
		t.Errorf("defaults: keep calls %v, recordings %v; want 168h and forever", c.KeepCalls, c.KeepRecordings)
	}
}
