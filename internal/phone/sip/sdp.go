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
	// dir is the stream's direction as its sender says it: sendrecv,
	// sendonly, recvonly or inactive. An old-style hold (an unspecified
	// connection address, in a re-INVITE) reads as sendonly, or inactive
	// when the SDP said recvonly or inactive.
	dir string
}

// held reports whether s puts the call on hold: its sender will not take
// our audio.
func (s session) held() bool { return s.dir == "sendonly" || s.dir == "inactive" }

// answerDir is the direction our answer takes to an offer saying dir.
func answerDir(dir string) string {
	switch dir {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}

// maxSDP caps a body voicehook parses.
const maxSDP = 16 << 10

// parseSDP reads the audio stream of an SDP body. It keeps only PCMU, PCMA
// and telephone-event/8000, and fails when none of the G.711 codecs is in
// the offer.
func parseSDP(body []byte) (session, error) {
	return parseSDPHold(body, false)
}

// parseSDPHold is parseSDP; with hold, for a re-INVITE, an unspecified
// connection address is taken as an old-style hold (the address stays
// unset) rather than refused.
func parseSDPHold(body []byte, hold bool) (session, error) {
	s := session{event: -1, dir: "sendrecv"}
	sessionDir, mediaDir := "", ""
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
			switch val {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				if inAudio {
					mediaDir = val
				} else if !sawAudio {
					sessionDir = val
				}
				continue
			}
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
	switch {
	case mediaDir != "":
		s.dir = mediaDir
	case sessionDir != "":
		s.dir = sessionDir
	}
	switch {
	case hold && addr.IsUnspecified():
		if s.dir == "sendrecv" {
			s.dir = "sendonly"
		} else if s.dir == "recvonly" {
			s.dir = "inactive"
		}
	case addr.IsUnspecified() || addr.IsMulticast():
		return s, fmt.Errorf("sdp: connection address %s is not a unicast address", addr)
	default:
		s.addr = netip.AddrPortFrom(addr.Unmap(), uint16(port))
	}
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
	now := time.Now().Unix()
	return writeSDPVersion(host, port, codecs, event, now, now, "sendrecv")
}

// writeSDPVersion is writeSDP with the o= session id and version, and the
// stream's direction.
func writeSDPVersion(host string, port int, codecs []uint8, event int, id, version int64, dir string) []byte {
	ipv := "IP4"
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() && !a.Is4In6() {
		ipv = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=voicehook %d %d IN %s %s\r\ns=voicehook\r\nc=IN %s %s\r\nt=0 0\r\n", id, version, ipv, host, ipv, host)
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
	b.WriteString("a=ptime:20\r\na=" + dir + "\r\n")
	return []byte(b.String())
}

// sdpOrigin reads the session id and version of our own SDP's o= line.
func sdpOrigin(b []byte) (id, version int64) {
	for line := range strings.SplitSeq(string(b), "\n") {
		rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "o=")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) >= 3 {
			id, _ = strconv.ParseInt(f[1], 10, 64)
			version, _ = strconv.ParseInt(f[2], 10, 64)
		}
		return id, version
	}
	return 0, 0
}
