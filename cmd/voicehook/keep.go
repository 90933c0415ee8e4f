package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/voicehook/voicehook/internal/server"
)

// keep is the value of --keep-calls and --keep-recordings: how long to
// keep what ended. It takes a Go duration ("168h", "90m") or whole days
// ("7d"), and 0 for forever.
type keep time.Duration

// parseKeep parses a retention: a Go duration, a number of days with the
// suffix d, or 0 (keep forever). Negative values are refused.
func parseKeep(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 32)
		if err != nil || n > 100*365 {
			return 0, fmt.Errorf("%q: want whole days such as 7d (at most 36500d), or a duration such as 168h", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d < 0 {
			return 0, fmt.Errorf("%q: want a duration such as 168h, days such as 7d, or 0 to keep forever", s)
		}
	}
	return d, nil
}

func (k *keep) Set(s string) error {
	d, err := parseKeep(s)
	if err != nil {
		return err
	}
	*k = keep(d)
	return nil
}

func (k keep) String() string { return formatKeep(time.Duration(k)) }

// formatKeep writes a retention as the flags take it: whole days as
// days, 0 as forever.
func formatKeep(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 (forever)"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// config is the server's value: 0 means keep forever there too.
func (k keep) config() time.Duration {
	if k == 0 {
		return server.KeepForever
	}
	return time.Duration(k)
}
