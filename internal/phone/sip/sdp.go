package sip

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Payload types of the codecs voicehook speaks.
const (
	ptPCMU = 0
	ptPCMA = 8
	// ptEvent is the telephone-event payload type voicehook offers; in an
	// answer it uses the one the offer chose.
	ptEvent = 101
)

// session is what an SDP offer or answer says about the audio stream.
type session struct {
	addr netip.AddrPort // where to send RTP
	// codecs are the G.711 payload types in the order of preference.
	codecs []uint8
	// event is the telephone-event payload type, or -1.
	event int
}

// maxSDP caps a body voicehook parses.
const maxSDP = 16 << 10

// parseSDP reads the audio stream of an SDP body. It keeps only PCMU, PCMA
// and telephone-event/8000, and fails when none of the G.711 codecs is in
// the offer.
func parseSDP(body []byte) (session, error) {
	s := session{event: -1}
	if len(body) == 0 {
		return s, errors.New("sdp: empty body")
	}
	if len(body) > maxSDP {
		return s, fmt.Errorf("sdp: body of %d bytes is longer than %d", len(body), maxSDP)
	}
	var sessionAddr, mediaAddr netip.Addr
	var port int
	var formats []string
	inAudio, sawAudio := false, false
	rtpmap := map[string]string{} // audio payload type → encoding name/rate
	for line := range strings.SplitSeq(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		key, val := line[0], line[2:]
		switch key {
		case 'm':
			f := strings.Fields(val)
			inAudio = false
			if len(f) < 4 || f[0] != "audio" || sawAudio {
				continue
			}
			p, err := strconv.Atoi(strings.SplitN(f[1], "/", 2)[0])
			if err != nil || p < 0 || p > 65535 {
				return s, fmt.Errorf("sdp: bad port in m=%s", val)
			}
			if !strings.HasPrefix(f[2], "RTP/AVP") {
				continue
			}
			inAudio, sawAudio = true, true
			port, formats = p, f[3:]
		case 'c':
			f := strings.Fields(val)
			if len(f) < 3 || f[0] != "IN" {
				continue
			}
			a, err := netip.ParseAddr(strings.SplitN(f[2], "/", 2)[0])
			if err != nil {
				continue
			}
			if inAudio {
				mediaAddr = a
			} else if !sawAudio {
				sessionAddr = a
			}
		case 'a':
			if !inAudio {
				continue
			}
			if rest, ok := strings.CutPrefix(val, "rtpmap:"); ok {
				pt, enc, ok := strings.Cut(rest, " ")
				if ok {
					rtpmap[pt] = strings.ToLower(strings.TrimSpace(enc))
				}
			}
		}
	}
	if !sawAudio {
		return s, errors.New("sdp: no RTP audio stream")
	}
	addr := mediaAddr
	if !addr.IsValid() {
		addr = sessionAddr
	}
	if !addr.IsValid() {
		return s, errors.New("sdp: no connection address")
	}
	if addr.IsUnspecified() || addr.IsMulticast() {
		return s, fmt.Errorf("sdp: connection address %s is not a unicast address", addr)
	}
	s.addr = netip.AddrPortFrom(addr.Unmap(), uint16(port))
	for _, f := range formats {
		pt, err := strconv.Atoi(f)
		if err != nil || pt < 0 || pt > 127 {
			continue
		}
		enc, mapped := rtpmap[f]
		switch {
		case pt == ptPCMU && (!mapped || strings.HasPrefix(enc, "pcmu/8000")):
			s.codecs = append(s.codecs, ptPCMU)
		case pt == ptPCMA && (!mapped || strings.HasPrefix(enc, "pcma/8000")):
			s.codecs = append(s.codecs, ptPCMA)
		case pt >= 96 && strings.HasPrefix(enc, "telephone-event/8000") && s.event < 0:
			s.event = pt
		}
	}
	if len(s.codecs) == 0 {
		return s, fmt.Errorf("sdp: no PCMU or PCMA among the formats %q", strings.Join(formats, " "))
	}
	return s, nil
}

// writeSDP writes an offer (codecs PCMU and PCMA, telephone-event at
// ptEvent) or an answer (one codec, telephone-event at the offer's type
// when it had one).
func writeSDP(host string, port int, codecs []uint8, event int) []byte {
	ipv := "IP4"
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && !a.Is4In6() {
		ipv = "IP6"
	}
	id := strconv.FormatInt(time.Now().Unix(), 10)
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=voicehook %s %s IN %s %s\r\ns=voicehook\r\nc=IN %s %s\r\nt=0 0\r\n", id, id, ipv, host, ipv, host)
	fmt.Fprintf(&b, "m=audio %d RTP/AVP", port)
	for _, c := range codecs {
		fmt.Fprintf(&b, " %d", c)
	}
	if event >= 0 {
		fmt.Fprintf(&b, " %d", event)
	}
	b.WriteString("\r\n")
	for _, c := range codecs {
		name := "PCMU"
		if c == ptPCMA {
			name = "PCMA"
		}
		fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", c, name)
	}
	if event >= 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", event, event)
	}
	b.WriteString("a=ptime:20\r\na=sendrecv\r\n")
	return []byte(b.String())
}
