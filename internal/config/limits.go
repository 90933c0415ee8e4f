package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Limits are an account's call limits, the limits: key of its entry in a
// config file. The zero value is no limit.
type Limits struct {
	// CallsPerSecond bounds the calls that start in any one second
	// (outbound, inbound and transfer legs); 1 to 1000, 0 for none.
	// Outbound calls beyond it wait in the account's queue.
	CallsPerSecond int
	// ConcurrentCalls bounds the account's live calls; 0 for none.
	ConcurrentCalls int
}

// BandwidthLimits are Bandwidth's default limits: 5 calls per second and
// 100 concurrent calls (serve --limits bandwidth).
var BandwidthLimits = Limits{CallsPerSecond: 5, ConcurrentCalls: 100}

// Bounds of the limits: keys.
const (
	MaxCallsPerSecond  = 1000
	MaxConcurrentCalls = 1_000_000
)

// DefaultLimits gives l to every account that has no limits: of its own
// (serve --limits bandwidth). It changes d, so call it before d is shared.
func (d *Directory) DefaultLimits(l Limits) {
	for _, a := range d.Accounts {
		if a.Limits == nil {
			lim := l
			a.Limits = &lim
		}
	}
}

// LimitsByAccount returns the limits of the accounts that have any, by
// account id.
func (d *Directory) LimitsByAccount() map[string]Limits {
	out := map[string]Limits{}
	for _, a := range d.Accounts {
		if a.Limits != nil && *a.Limits != (Limits{}) {
			out[a.ID] = *a.Limits
		}
	}
	return out
}

// parseLimits reads an account's limits: mapping; every problem names
// the account and the key.
func parseLimits(account string, n *yaml.Node) (*Limits, error) {
	where := fmt.Sprintf("config: account %s: limits", account)
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: want a mapping with callsPerSecond and concurrentCalls (line %d)", where, n.Line)
	}
	l := &Limits{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		var dst *int
		var most int
		switch key {
		case "callsPerSecond":
			dst, most = &l.CallsPerSecond, MaxCallsPerSecond
		case "concurrentCalls":
			dst, most = &l.ConcurrentCalls, MaxConcurrentCalls
		default:
			return nil, fmt.Errorf("%s: unknown key %q (line %d); want callsPerSecond or concurrentCalls", where, key, n.Content[i].Line)
		}
		if seen[key] {
			return nil, fmt.Errorf("%s: %s is given twice", where, key)
		}
		seen[key] = true
		if val.Kind != yaml.ScalarNode || val.ShortTag() != "!!int" || val.Decode(dst) != nil {
			return nil, fmt.Errorf("%s: %s %q: want a whole number from 0 to %d", where, key, val.Value, most)
		}
		if *dst < 0 || *dst > most {
			return nil, fmt.Errorf("%s: %s %d: want 0 (no limit) to %d", where, key, *dst, most)
		}
	}
	return l, nil
}
