package sip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voicehook/voicehook/internal/engine"
)

var _ engine.DialogEnder = (*Network)(nil)

// dialogVersion is the version of the stored dialog state's format.
const dialogVersion = 1

// byeCSeqStep is how far past the stored CSeq the BYE of EndDialog goes.
// The line may have sent in-dialog requests (session refreshes) after its
// state was stored, and the node that ends the dialog cannot know how
// many. RFC 3261 section 12.2.1.1 only asks that our CSeq numbers within
// a dialog increase (by any amount), and section 12.2.2 has the far end
// take any number higher than the last it saw, so a step of 1000 is valid
// and covers that many requests.
const byeCSeqStep = 1000

// dialogState is a call's SIP dialog as the engine stores it
// (engine.PhoneEvent.Dialog, engine.Call.Dialog): what a node needs to
// send a BYE in the dialog without the line that carried it, RFC 3261
// section 12. URIs are in their SIP form, without angle brackets.
type dialogState struct {
	V         int    `json:"v"`
	CallID    string `json:"callId"`
	LocalTag  string `json:"localTag"`
	RemoteTag string `json:"remoteTag"`
	// LocalURI goes in the From of our requests, RemoteURI in the To.
	LocalURI  string `json:"localUri"`
	RemoteURI string `json:"remoteUri"`
	// Target is the far end's Contact: the Request-URI of our requests.
	Target string `json:"target"`
	// Routes is the route set, in the order of the Route headers of our
	// requests: the 2xx's Record-Route reversed when we sent the INVITE,
	// the INVITE's Record-Route as it came when we took it.
	Routes []string `json:"routes,omitempty"`
	// Transport is "udp" or "tcp".
	Transport string `json:"transport"`
	// CSeq is the CSeq number of our last request when the state was
	// taken.
	CSeq uint32 `json:"cseq"`
}

// uacDialog is the dialog of an INVITE we sent, once its 2xx came.
func uacDialog(cs *sipgo.DialogClientSession) (*dialogState, error) {
	req, res := cs.InviteRequest, cs.InviteResponse
	d := &dialogState{V: dialogVersion, Transport: strings.ToLower(req.Transport()), CSeq: cs.CSEQ()}
	from, to, contact := req.From(), res.To(), res.Contact()
	if from == nil || to == nil || contact == nil || req.CallID() == nil {
		return nil, errors.New("the INVITE or its 2xx lacks From, To, Contact or Call-ID")
	}
	d.CallID = req.CallID().Value()
	d.LocalURI, d.LocalTag = from.Address.String(), tag(from.Params)
	d.RemoteURI, d.RemoteTag = to.Address.String(), tag(to.Params)
	d.Target = contact.Address.String()
	rr, err := recordRoutes(res.GetHeaders("Record-Route"))
	if err != nil {
		return nil, err
	}
	for i := len(rr) - 1; i >= 0; i-- {
		d.Routes = append(d.Routes, rr[i])
	}
	return d, nil
}

// uasDialog is the dialog of an INVITE we took, as our 2xx makes it.
func uasDialog(ds *sipgo.DialogServerSession) (*dialogState, error) {
	req := ds.InviteRequest // its To carries our tag (sipgo's ReadInvite)
	d := &dialogState{V: dialogVersion, Transport: strings.ToLower(req.Transport()), CSeq: ds.CSEQ()}
	from, to, contact := req.From(), req.To(), req.Contact()
	if from == nil || to == nil || contact == nil || req.CallID() == nil {
		return nil, errors.New("the INVITE lacks From, To, Contact or Call-ID")
	}
	d.CallID = req.CallID().Value()
	d.LocalURI, d.LocalTag = to.Address.String(), tag(to.Params)
	d.RemoteURI, d.RemoteTag = from.Address.String(), tag(from.Params)
	d.Target = contact.Address.String()
	var err error
	if d.Routes, err = recordRoutes(req.GetHeaders("Record-Route")); err != nil {
		return nil, err
	}
	return d, nil
}

func tag(p sip.HeaderParams) string {
	t, _ := p.Get("tag")
	return t
}

// recordRoutes are the URIs of Record-Route headers, in their order.
func recordRoutes(hs []sip.Header) ([]string, error) {
	var out []string
	for _, h := range hs {
		var u sip.Uri
		if _, err := sip.ParseAddressValue(h.Value(), &u, nil); err != nil {
			return nil, fmt.Errorf("Record-Route %q: %w", h.Value(), err)
		}
		out = append(out, u.String())
	}
	return out, nil
}

// reportDialog keeps d as the line's dialog and reports it to the engine
// (PhoneDialog).
func (l *line) reportDialog(d *dialogState) {
	b, err := json.Marshal(d)
	if err != nil {
		l.n.log.Error("sip: dialog state", "sip_call_id", l.sipCallID, "err", err)
		return
	}
	l.mu.Lock()
	l.dialog = d
	l.mu.Unlock()
	l.emit(engine.PhoneEvent{Kind: engine.PhoneDialog, Dialog: b})
}

// dialogEstablished reports the dialog of the answered call, from the
// INVITE and its 2xx.
func (l *line) dialogEstablished() {
	l.mu.Lock()
	srv, cli := l.srv, l.cli
	l.mu.Unlock()
	var d *dialogState
	var err error
	if srv != nil {
		d, err = uasDialog(srv)
	} else {
		d, err = uacDialog(cli)
	}
	if err != nil {
		l.n.log.Warn("sip: no dialog state for the call: another node could not end it", "sip_call_id", l.sipCallID, "err", err)
		return
	}
	l.reportDialog(d)
}

// refreshTarget takes the Contact of a target refresh (a re-INVITE the
// far end sent, or the 2xx of one we sent, RFC 3261 section 12.2): a new
// remote target is reported as a new dialog state.
func (l *line) refreshTarget(c *sip.ContactHeader) {
	if c == nil {
		return
	}
	target := c.Address.String()
	l.mu.Lock()
	old, srv, cli, guarded := l.dialog, l.srv, l.cli, l.guarded
	l.mu.Unlock()
	if old == nil || old.Target == target {
		return
	}
	if guarded && l.n.cfg.CheckHost != nil {
		// The BYE of EndDialog goes there: a guarded call's new target
		// is checked as its first Contact was.
		if _, err := l.n.checkHost(l.n.ctx, c.Address.Host); err != nil {
			l.n.log.Warn("sip: target refresh refused: the dialog keeps its target", "sip_call_id", l.sipCallID, "host", c.Address.Host, "err", err)
			return
		}
	}
	d := *old
	d.Target = target
	if srv != nil {
		d.CSeq = srv.CSEQ()
	} else if cli != nil {
		d.CSeq = cli.CSEQ()
	}
	l.reportDialog(&d)
}

// parseDialog reads and checks a stored dialog state.
func parseDialog(b []byte) (*dialogState, error) {
	var d dialogState
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if d.V != dialogVersion {
		return nil, fmt.Errorf("version %d, want %d", d.V, dialogVersion)
	}
	for _, f := range []struct{ name, v string }{
		{"callId", d.CallID}, {"localTag", d.LocalTag}, {"remoteTag", d.RemoteTag},
		{"localUri", d.LocalURI}, {"remoteUri", d.RemoteURI}, {"target", d.Target},
	} {
		if f.v == "" {
			return nil, fmt.Errorf("no %s", f.name)
		}
	}
	if d.Transport != "udp" && d.Transport != "tcp" {
		return nil, fmt.Errorf("transport %q: want udp or tcp", d.Transport)
	}
	if d.CSeq >= 1<<31-byeCSeqStep {
		return nil, fmt.Errorf("cseq %d: too large", d.CSeq)
	}
	return &d, nil
}

// parseURI parses a URI of a dialog state (named what).
func parseURI(what, s string) (sip.Uri, error) {
	var u sip.Uri
	if err := sip.ParseUri(s, &u); err != nil || u.Host == "" {
		return u, fmt.Errorf("%s %q is not a SIP URI", what, s)
	}
	return u, nil
}

// byeRequest builds the BYE of a dialog state: the Request-URI is the
// remote target, or the first route when it is a strict router (no lr),
// RFC 3261 section 12.2.1.1. The Via is left to the client.
func byeRequest(d *dialogState) (*sip.Request, error) {
	target, err := parseURI("target", d.Target)
	if err != nil {
		return nil, err
	}
	local, err := parseURI("localUri", d.LocalURI)
	if err != nil {
		return nil, err
	}
	remote, err := parseURI("remoteUri", d.RemoteURI)
	if err != nil {
		return nil, err
	}
	routes := make([]sip.Uri, 0, len(d.Routes)+1)
	for _, r := range d.Routes {
		u, err := parseURI("route", r)
		if err != nil {
			return nil, err
		}
		routes = append(routes, u)
	}
	recipient, strict := target, false
	if len(routes) > 0 && !routes[0].UriParams.Has("lr") {
		strict = true
		recipient = routes[0]
		recipient.UriParams = nil // parameters not allowed in a Request-URI
		routes = append(routes[1:], target)
	}
	req := sip.NewRequest(sip.BYE, recipient)
	req.SetTransport(strings.ToUpper(d.Transport))
	if strict {
		// sipgo sends to the first Route: here it is the Request-URI.
		req.SetDestination(net.JoinHostPort(recipient.Host, strconv.Itoa(int(sipPort(recipient)))))
	}
	for _, r := range routes {
		req.AppendHeader(&sip.RouteHeader{Address: r})
	}
	maxForwards := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxForwards)
	from := &sip.FromHeader{Address: local, Params: sip.NewParams()}
	from.Params.Add("tag", d.LocalTag)
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: remote, Params: sip.NewParams()}
	to.Params.Add("tag", d.RemoteTag)
	req.AppendHeader(to)
	callID := sip.CallIDHeader(d.CallID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: d.CSeq + byeCSeqStep, MethodName: sip.BYE})
	req.SetBody(nil)
	return req, nil
}

// EndDialog ends a call's dialog from its stored state alone (the Dialog
// of a PhoneDialog event), without the line that carried it: it sends a
// BYE from this network's own address and waits, until ctx ends, for the
// final response. A 2xx ends the dialog; a 481 says the far end no longer
// has it, which ends it as well: both return nil. Another response, no
// response before ctx ends, a failure to send, or a state it cannot read
// returns an error that says which (engine.DialogEnder).
func (n *Network) EndDialog(ctx context.Context, dialog []byte) error {
	d, err := parseDialog(dialog)
	if err != nil {
		return fmt.Errorf("sip: dialog state: %w", err)
	}
	req, err := byeRequest(d)
	if err != nil {
		return fmt.Errorf("sip: dialog state: %w", err)
	}
	n.mu.Lock()
	started, closed := n.started, n.closed
	ua := n.udpUA
	if d.Transport == "tcp" {
		ua = n.tcpUA
	}
	n.mu.Unlock()
	if !started || closed {
		return errors.New("sip: end dialog: network not running")
	}
	res, err := ua.Client.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("sip: BYE to %s (Call-ID %s): no final response: %w", d.Target, d.CallID, err)
	}
	if res.IsSuccess() || res.StatusCode == 481 {
		n.log.Info("sip: dialog ended from its stored state", "sip_call_id", d.CallID, "code", res.StatusCode)
		return nil
	}
	return fmt.Errorf("sip: BYE to %s (Call-ID %s): %d %s", d.Target, d.CallID, res.StatusCode, res.Reason)
}
