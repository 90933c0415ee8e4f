package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/engine"
)

// describeLimits says, for the banner, which accounts have limits.
func describeLimits(limits map[string]config.Limits) string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(limits)) {
		l := limits[id]
		parts = append(parts, fmt.Sprintf("account %s: %d calls/s (queue %d), %d live calls", id, l.CallsPerSecond, engine.Limits(l).QueueCapacity(), l.ConcurrentCalls))
	}
	return strings.Join(parts, "; ") + " (0 is no limit)"
}
