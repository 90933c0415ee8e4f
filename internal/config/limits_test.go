package config_test

import (
	"strings"
	"testing"

	"github.com/voicehook/voicehook/internal/config"
)

const account = `
accounts:
  - id: "9900001"
    username: u
    password: p
`

func TestLoadLimits(t *testing.T) {
	d, err := config.Load(strings.NewReader(account + `    limits:
      callsPerSecond: 1
      concurrentCalls: 7
  - id: "9900002"
    username: v
    password: q
  - id: "9900003"
    username: w
    password: r
    limits: {callsPerSecond: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Accounts[0].Limits; got == nil || *got != (config.Limits{CallsPerSecond: 1, ConcurrentCalls: 7}) {
		t.Errorf("limits of 9900001: %+v, want 1 and 7", got)
	}
	if d.Accounts[1].Limits != nil {
		t.Errorf("limits of 9900002 without a limits: key: %+v, want none", d.Accounts[1].Limits)
	}
	// --limits bandwidth: those without limits: get Bandwidth's; an
	// account whose limits say none keeps none.
	d.DefaultLimits(config.BandwidthLimits)
	want := map[string]config.Limits{"9900001": {CallsPerSecond: 1, ConcurrentCalls: 7}, "9900002": {CallsPerSecond: 5, ConcurrentCalls: 100}}
	got := d.LimitsByAccount()
	if len(got) != len(want) || got["9900001"] != want["9900001"] || got["9900002"] != want["9900002"] {
		t.Errorf("limits by account after DefaultLimits: %v, want %v", got, want)
	}
}

func TestLoadLimitsErrors(t *testing.T) {
	for yaml, want := range map[string]string{
		"    limits: {callsPerSecond: 1001}":                 `account 9900001: limits: callsPerSecond 1001: want 0 (no limit) to 1000`,
		"    limits: {callsPerSecond: -1}":                   `account 9900001: limits: callsPerSecond -1`,
		"    limits: {concurrentCalls: many}":                `account 9900001: limits: concurrentCalls "many": want a whole number`,
		"    limits: {callsPerSecond: 2.5}":                  `account 9900001: limits: callsPerSecond "2.5"`,
		"    limits: {cps: 5}":                               `account 9900001: limits: unknown key "cps"`,
		"    limits: 5":                                      `account 9900001: limits: want a mapping`,
		"    limits: {concurrentCalls: [1, 2]}":              `account 9900001: limits: concurrentCalls`,
		"    limits: {concurrentCalls: 1000001}":             `concurrentCalls 1000001: want 0 (no limit) to 1000000`,
		"    limits: {callsPerSecond: 1, callsPerSecond: 2}": `callsPerSecond`,
	} {
		_, err := config.Load(strings.NewReader(account + yaml + "\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one with %q", strings.TrimSpace(yaml), err, want)
		}
	}
}
