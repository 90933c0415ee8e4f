package server

import (
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/engine"
)

// The values of Config.Limits (serve --limits).
const (
	LimitsOff       = "off"
	LimitsBandwidth = "bandwidth"
)

// accountLimits is the engine's view of the accounts' limits: nil when no
// account has any, so that calls take the engine's path without limits.
func accountLimits(d *config.Directory) func(accountID string) engine.Limits {
	byAccount := d.LimitsByAccount()
	if len(byAccount) == 0 {
		return nil
	}
	limits := make(map[string]engine.Limits, len(byAccount))
	for id, l := range byAccount {
		limits[id] = engine.Limits(l)
	}
	return func(accountID string) engine.Limits { return limits[accountID] }
}
