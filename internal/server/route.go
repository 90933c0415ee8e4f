package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
	sipnet "github.com/voicehook/voicehook/internal/phone/sip"
)

// router is the engine's phone network when SIP is on: it sends each call
// to the simulated phones or to SIP.
//
//   - A `to` that is a SIP URI goes to SIP, dialled at its own host.
//   - A number a softphone registered for (sip: users) goes to SIP,
//     which rings the softphone.
//   - With a SIP gateway, the magic numbers and the numbers scripted with
//     --phones or PUT /sim/v1/phones stay simulated; every other number
//     goes to the gateway.
//   - Without one, every number is simulated, as with SIP off.
//
// Inbound SIP calls bring their own line (engine.Inbound.Attach); the
// callers of /sim/v1/inbound are simulated.
type router struct {
	sim     *sim.Network   // nil with --sim=false
	sip     engine.Network // nil with SIP off
	gateway bool           // sip has a gateway for numbers
	// started is closed once sip listens (nil: it does already).
	started <-chan struct{}
}

// registrar is the SIP network's side that knows the softphones
// registered (sipnet.Network.Registered).
type registrar interface {
	Registered(number string) bool
}

var (
	errSIPOff       = errors.New("no route: this `to` is a SIP URI, and SIP is off (start voicehook with --sip-addr)")
	errNoGatewaySim = errors.New("no route: the simulator is off (--sim=false) and no SIP gateway is configured (--sip-gateway)")
)

// Dial places a call on the network its `to` belongs to.
func (r router) Dial(d engine.Dial, notify func(engine.PhoneEvent)) (engine.Line, error) {
	if isSIPURI(d.To) {
		if r.sip == nil {
			return nil, errSIPOff
		}
		return r.sip.Dial(d, notify)
	}
	if reg, ok := r.sip.(registrar); ok && reg.Registered(d.To) {
		return r.sip.Dial(d, notify)
	}
	if r.sim != nil {
		if _, scripted := r.sim.Script(d.AccountID, d.To); scripted || !r.gateway || r.sip == nil {
			return r.sim.Dial(d, notify)
		}
	}
	if r.sip != nil && r.gateway {
		return r.sip.Dial(d, notify)
	}
	return nil, errNoGatewaySim
}

// Incoming connects the simulated caller of /sim/v1/inbound.
func (r router) Incoming(d engine.Dial, notify func(engine.PhoneEvent)) (engine.Line, error) {
	if r.sim == nil {
		return nil, errNoGatewaySim
	}
	return r.sim.Incoming(d, notify)
}

func isSIPURI(to string) bool { return callback.ValidateSIPURI(to) == nil }

// outgoing is the call of a softphone calling a number no application
// answers, through the gateways (sipnet.User.Gateway): voicehook forwards
// it, as an inbound call of the config's first account whose BXML is a
// <Forward> to the number from the user's own. The engine then does what
// a Forward does: the number rings through the gateway, the softphone is
// answered when it answers, their audio is joined, and the console shows
// both legs. No application is asked and no webhook is sent.
func (s *Server) outgoing(user sipnet.User, number string) (engine.Inbound, bool) {
	if len(s.dir.Accounts) == 0 || callback.ValidateE164(number) != nil {
		return engine.Inbound{}, false
	}
	doc := fmt.Sprintf(`<Response><Forward to="%s" from="%s"/></Response>`, number, user.Number)
	return engine.Inbound{AccountID: s.dir.Accounts[0].ID, From: user.Number, To: number, BXML: []byte(doc)}, true
}

// EndDialog ends an adopted call's SIP dialog (engine.DialogEnder): only
// SIP lines leave one.
func (r router) EndDialog(ctx context.Context, dialog []byte) error {
	ender, ok := r.sip.(engine.DialogEnder)
	if !ok {
		return errors.New("the call's SIP dialog cannot be ended: SIP is off on this node (start it with --sip-addr)")
	}
	if r.started != nil {
		// The calls a restart ends are ended before SIP listens.
		select {
		case <-r.started:
		case <-ctx.Done():
			return fmt.Errorf("the call's SIP dialog was not ended: SIP did not start: %w", ctx.Err())
		}
	}
	return ender.EndDialog(ctx, dialog)
}

var _ engine.DialogEnder = router{}
