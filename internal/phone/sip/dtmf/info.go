package dtmf

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxInfoBody is the largest INFO body ParseInfo reads; a real one is a few
// dozen bytes.
const maxInfoBody = 1024

// maxInfoDuration bounds the Duration line of a dtmf-relay body.
const maxInfoDuration = 60_000 // milliseconds

// ParseInfo reads the body of a SIP INFO request that carries a key press.
//
// For Content-Type application/dtmf-relay the body is lines of key=value:
// "Signal=5\r\nDuration=160". Keys are case-insensitive, spaces around keys
// and values are ignored, lines end in \n or \r\n, and other lines are
// ignored. Signal is one key ('a'-'d' read as 'A'-'D'), or an event code
// 10-15 for '*', '#', 'A'-'D' as some phones send. Duration is in
// milliseconds.
//
// For Content-Type application/dtmf the body is the key alone ("5"); a body
// in the dtmf-relay form is accepted too.
//
// Parameters of the content type (";charset=…") are ignored. d is 0 when the
// body gives no duration. The error names what was wrong.
func ParseInfo(contentType string, body []byte) (key byte, d time.Duration, err error) {
	media, _, _ := strings.Cut(contentType, ";")
	media = strings.ToLower(strings.TrimSpace(media))
	if media != "application/dtmf-relay" && media != "application/dtmf" {
		return 0, 0, fmt.Errorf("dtmf: INFO content type %q is not application/dtmf-relay or application/dtmf", clip(contentType))
	}
	if len(body) > maxInfoBody {
		return 0, 0, fmt.Errorf("dtmf: INFO body of %d bytes: at most %d", len(body), maxInfoBody)
	}
	if media == "application/dtmf" && !bytes.Contains(body, []byte("=")) {
		k, ok := signal(strings.TrimSpace(string(body)))
		if !ok {
			return 0, 0, fmt.Errorf("dtmf: application/dtmf body %q is not a DTMF key", clip(string(body)))
		}
		return k, 0, nil
	}
	var haveSignal bool
	for line := range strings.Lines(string(body)) {
		name, value, found := strings.Cut(line, "=")
		if !found {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		switch name {
		case "signal":
			k, ok := signal(value)
			if !ok {
				return 0, 0, fmt.Errorf("dtmf: INFO Signal %q is not a DTMF key", clip(value))
			}
			key, haveSignal = k, true
		case "duration":
			ms, err := strconv.Atoi(value)
			if err != nil || ms < 0 || ms > maxInfoDuration {
				return 0, 0, fmt.Errorf("dtmf: INFO Duration %q: want milliseconds from 0 to %d", clip(value), maxInfoDuration)
			}
			d = time.Duration(ms) * time.Millisecond
		}
	}
	if !haveSignal {
		return 0, 0, fmt.Errorf("dtmf: INFO body has no Signal line")
	}
	return key, d, nil
}

// signal reads one key, or an event code 10-15 written in decimal.
func signal(s string) (byte, bool) {
	if len(s) == 1 {
		return normalKey(s[0])
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 10 && n <= 15 {
		return KeyOf(byte(n))
	}
	return 0, false
}

func normalKey(k byte) (byte, bool) {
	e, ok := EventOf(k)
	if !ok {
		return 0, false
	}
	return KeyOf(e)
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	const n = 32
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
