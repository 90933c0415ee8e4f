package siptest

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// eventPT is the payload type the phone offers for telephone-event.
const eventPT = 101

// media is what the phone reads from an SDP body: where to send RTP, the
// payload types on the m=audio line, the telephone-event payload type (0
// when there is none) and the direction.
type media struct {
	addr  netip.AddrPort
	pts   []uint8
	event uint8
	dir   string
}

func (m media) has(pt uint8) bool {
	for _, p := range m.pts {
		if p == pt {
			return true
		}
	}
	return false
}

// parseSDP reads the first audio stream of body. A held stream may give
// the unspecified address 0.0.0.0: its addr is then invalid.
func parseSDP(body []byte) (media, error) {
	var m media
	var host string
	port := -1
	m.dir = "sendrecv"
	inAudio := false
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "c=IN IP4 ") && (host == "" || inAudio):
			host = strings.TrimSpace(strings.TrimPrefix(line, "c=IN IP4 "))
		case strings.HasPrefix(line, "m="):
			if port >= 0 {
				inAudio = false
				continue
			}
			f := strings.Fields(strings.TrimPrefix(line, "m="))
			if len(f) < 4 || f[0] != "audio" {
				continue
			}
			p, err := strconv.Atoi(f[1])
			if err != nil {
				return m, fmt.Errorf("siptest: bad m= line %q", line)
			}
			port, inAudio = p, true
			for _, s := range f[3:] {
				if v, err := strconv.Atoi(s); err == nil && v >= 0 && v < 128 {
					m.pts = append(m.pts, uint8(v))
				}
			}
		case inAudio && strings.HasPrefix(line, "a=rtpmap:"):
			pt, enc, _ := strings.Cut(strings.TrimPrefix(line, "a=rtpmap:"), " ")
			if v, err := strconv.Atoi(pt); err == nil && strings.HasPrefix(strings.ToLower(enc), "telephone-event/") {
				m.event = uint8(v)
			}
		case inAudio && (line == "a=sendrecv" || line == "a=sendonly" || line == "a=recvonly" || line == "a=inactive"):
			m.dir = strings.TrimPrefix(line, "a=")
		}
	}
	if port < 0 {
		return m, errors.New("siptest: the SDP has no m=audio line")
	}
	if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() && port > 0 {
		m.addr = netip.AddrPortFrom(a, uint16(port))
	}
	return m, nil
}

// writeSDP is the phone's offer or answer: codec alone plus
// telephone-event, in direction dir.
func writeSDP(host string, port int, codec Codec, version int, dir string) []byte {
	return fmt.Appendf(nil, "v=0\r\no=siptest 1 %[5]d IN IP4 %[1]s\r\ns=siptest\r\nc=IN IP4 %[1]s\r\nt=0 0\r\n"+
		"m=audio %[2]d RTP/AVP %[3]d %[6]d\r\na=rtpmap:%[3]d %[4]s/8000\r\n"+
		"a=rtpmap:%[6]d telephone-event/8000\r\na=fmtp:%[6]d 0-16\r\na=ptime:20\r\na=%[7]s\r\n",
		host, port, uint8(codec), codec, version, eventPT, dir)
}

// answerDir is the direction that answers an offered one.
func answerDir(offered string) string {
	switch offered {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}
