package server

import (
	"errors"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
)

// sipStandIn records the calls routed to SIP.
type sipStandIn struct{ dialled []string }

func (s *sipStandIn) Dial(d engine.Dial, _ func(engine.PhoneEvent)) (engine.Line, error) {
	s.dialled = append(s.dialled, d.To)
	return nil, errors.New("not a real network")
}

func (s *sipStandIn) Incoming(engine.Dial, func(engine.PhoneEvent)) (engine.Line, error) {
	return nil, errors.New("not a real network")
}

// Which network a call goes to, for each setting of SIP and the
// simulator: the rules the README states. (With SIP off there is no
// router: the simulator takes every call, as before SIP existed.)
func TestRouterRules(t *testing.T) {
	const magic, scripted, other, uri = "+15550000486", "+15558889999", "+15553334444", "sip:alice@127.0.0.9:5060"
	cases := []struct {
		name    string
		sim     bool
		sip     bool
		gateway bool
		want    map[string]string // to → "sim", "sip" or an error's words
	}{
		{name: "SIP with a gateway", sim: true, sip: true, gateway: true,
			want: map[string]string{magic: "sim", scripted: "sim", other: "sip", uri: "sip"}},
		{name: "SIP without a gateway", sim: true, sip: true,
			want: map[string]string{magic: "sim", scripted: "sim", other: "sim", uri: "sip"}},
		{name: "the simulator off, with a gateway", sip: true, gateway: true,
			want: map[string]string{magic: "sip", other: "sip", uri: "sip"}},
		{name: "the simulator off, no gateway", sip: true,
			want: map[string]string{other: "no SIP gateway is configured", uri: "sip"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := router{gateway: c.gateway}
			stand := &sipStandIn{}
			if c.sip {
				r.sip = stand
			}
			if c.sim {
				r.sim = sim.New(engine.RealClock{}, map[string]sim.Script{scripted: {}})
			}
			for to, want := range c.want {
				before := len(stand.dialled)
				line, err := r.Dial(engine.Dial{CallID: "c-" + to, AccountID: "9900000", From: "+15551234567", To: to}, func(engine.PhoneEvent) {})
				got := "sim"
				switch {
				case len(stand.dialled) > before:
					got = "sip"
				case err != nil:
					got = err.Error()
				}
				if line != nil {
					line.Hangup()
				}
				if !strings.Contains(got, want) {
					t.Errorf("%s: routed to %q, want %q", to, got, want)
				}
			}
		})
	}
}
