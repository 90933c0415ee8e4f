package sip

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// sessionTimer is a call's RFC 4028 session timer, set when the far end's
// INVITE or 2xx asked for one.
type sessionTimer struct {
	interval time.Duration
	// ours: voicehook refreshes (a re-INVITE at half the interval);
	// otherwise the far end must, within the interval.
	ours bool
	t    *time.Timer // under the line's mu
}

// minSE is the shortest session interval accepted (RFC 4028's Min-SE).
const minSE = 90 * time.Second

// parseSessionExpires reads a Session-Expires value, "1800;refresher=uac":
// the interval and the refresher ("uac", "uas" or "").
func parseSessionExpires(v string) (time.Duration, string, bool) {
	parts := strings.Split(v, ";")
	secs, err := strconv.Atoi(strings.TrimSpace(parts[0]))
	if err != nil || secs <= 0 || secs > 86400 {
		return 0, "", false
	}
	ref := ""
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "refresher") {
			ref = strings.ToLower(strings.TrimSpace(val))
		}
	}
	return time.Duration(secs) * time.Second, ref, true
}

// sessionExpiresHeader is the Session-Expires header of a message, in its
// long or compact form.
func sessionExpiresHeader(m interface{ GetHeader(string) sip.Header }) sip.Header {
	if h := m.GetHeader("Session-Expires"); h != nil {
		return h
	}
	return m.GetHeader("x")
}

// header is the Session-Expires voicehook sends, refresher named as the
// UAS (the far end's INVITE) or UAC (a refresh voicehook sends) sees it.
func (se *sessionTimer) header(refresher string) sip.Header {
	return sip.NewHeader("Session-Expires", fmt.Sprintf("%d;refresher=%s", int(se.interval/time.Second), refresher))
}

func (se *sessionTimer) wait() time.Duration {
	if se.ours {
		return se.interval / 2
	}
	return se.interval
}

// startSession starts the line's session timer, if it has one, once the
// call is answered.
func (l *line) startSession() {
	l.mu.Lock()
	defer l.mu.Unlock()
	se := l.se
	if se == nil || se.t != nil || l.state != stateAnswered {
		return
	}
	se.t = time.AfterFunc(se.wait(), l.sessionDue)
}

// sessionRefreshed restarts the session timer: a refresh came or went.
func (l *line) sessionRefreshed() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if se := l.se; se != nil && se.t != nil && l.state == stateAnswered {
		se.t.Reset(se.wait())
	}
}

// sessionDue runs when the session timer fires: refresh it, or end a call
// the far end did not refresh.
func (l *line) sessionDue() {
	l.mu.Lock()
	se, answered := l.se, l.state == stateAnswered
	l.mu.Unlock()
	if !answered {
		return
	}
	if se.ours {
		l.do(l.refreshSession)
		return
	}
	l.do(func() { l.endFor("session timer expired") })
}

// refreshSession sends a re-INVITE with the SDP the call has (the same o=
// version: nothing changes), and ACKs its 2xx.
func (l *line) refreshSession() {
	l.mu.Lock()
	srv, cli, sdp, se := l.srv, l.cli, l.sdp, l.se
	answered := l.state == stateAnswered
	l.mu.Unlock()
	if !answered || l.hangup.Load() || sdp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(l.n.ctx), 10*time.Second)
	defer cancel()
	var contact *sip.ContactHeader
	if srv != nil {
		contact = srv.InviteRequest.Contact()
	} else if cli != nil && cli.InviteResponse != nil {
		contact = cli.InviteResponse.Contact()
	}
	if contact == nil {
		return
	}
	req := sip.NewRequest(sip.INVITE, contact.Address)
	req.SetBody(sdp)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(se.header("uac"))
	req.AppendHeader(sip.NewHeader("Supported", "timer"))
	l.signal("→ INVITE (session refresh)")
	var res *sip.Response
	var err error
	if srv != nil {
		res, err = srv.Do(ctx, req)
	} else {
		res, err = cli.Do(ctx, req)
	}
	if err != nil {
		l.n.log.Debug("sip: session refresh", "sip_call_id", l.sipCallID, "err", err)
		l.sessionRefreshed()
		return
	}
	l.signalResponse(false, res.StatusCode, res.Reason)
	if res.IsSuccess() {
		l.refreshTarget(res.Contact())
		ack := sip.NewRequest(sip.ACK, req.Recipient)
		if srv != nil {
			err = srv.WriteRequest(ack)
		} else {
			err = cli.WriteRequest(ack)
		}
		if err != nil {
			l.n.log.Debug("sip: ack", "sip_call_id", l.sipCallID, "err", err)
		}
	}
	l.sessionRefreshed()
}
