package sip

// Temporary stand-ins for internal/pcm, internal/tts, internal/phone/sip/dtmf
// and internal/phone/sip/siphdr, written against their announced signatures
// until those packages land on main. Deleted after the merge.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/zaf/g711"

	"github.com/voicehook/voicehook/callback"
)

// ---- pcm ----

type tmpClip struct {
	Rate    int
	Samples []int16
}

func tmpDecode(r io.Reader, max time.Duration) (tmpClip, error) {
	b, err := io.ReadAll(io.LimitReader(r, 50<<20))
	if err != nil {
		return tmpClip{}, err
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return tmpClip{}, errors.New("not a WAV file")
	}
	var ch, bits, rate int
	p := 12
	for p+8 <= len(b) {
		id := string(b[p : p+4])
		n := int(binary.LittleEndian.Uint32(b[p+4:]))
		p += 8
		if n > len(b)-p {
			n = len(b) - p
		}
		switch id {
		case "fmt ":
			if n < 16 {
				return tmpClip{}, errors.New("short fmt")
			}
			ch = int(binary.LittleEndian.Uint16(b[p+2:]))
			rate = int(binary.LittleEndian.Uint32(b[p+4:]))
			bits = int(binary.LittleEndian.Uint16(b[p+14:]))
		case "data":
			if bits != 16 || ch < 1 || rate < 1 {
				return tmpClip{}, errors.New("unsupported WAV")
			}
			d := b[p : p+n]
			frames := len(d) / (2 * ch)
			out := make([]int16, frames)
			for i := range frames {
				var sum int
				for c := range ch {
					sum += int(int16(binary.LittleEndian.Uint16(d[(i*ch+c)*2:])))
				}
				out[i] = int16(sum / ch)
			}
			return tmpClip{Rate: rate, Samples: out}, nil
		}
		p += n + n%2
	}
	return tmpClip{}, errors.New("no data chunk")
}

func tmpResample(c tmpClip, rate int) tmpClip {
	if c.Rate == rate || c.Rate <= 0 {
		return tmpClip{Rate: rate, Samples: c.Samples}
	}
	n := int(int64(len(c.Samples)) * int64(rate) / int64(c.Rate))
	out := make([]int16, n)
	for i := range out {
		pos := float64(i) * float64(c.Rate) / float64(rate)
		j := int(pos)
		f := pos - float64(j)
		a := float64(c.Samples[min(j, len(c.Samples)-1)])
		b := float64(c.Samples[min(j+1, len(c.Samples)-1)])
		out[i] = int16(a + (b-a)*f)
	}
	return tmpClip{Rate: rate, Samples: out}
}

func tmpEncodeULaw(dst []byte, src []int16) []byte {
	for _, s := range src {
		dst = append(dst, g711.EncodeUlawFrame(s))
	}
	return dst
}

func tmpEncodeALaw(dst []byte, src []int16) []byte {
	for _, s := range src {
		dst = append(dst, g711.EncodeAlawFrame(s))
	}
	return dst
}

func tmpDecodeULaw(dst []int16, src []byte) []int16 {
	for _, b := range src {
		dst = append(dst, g711.DecodeUlawFrame(b))
	}
	return dst
}

func tmpDecodeALaw(dst []int16, src []byte) []int16 {
	for _, b := range src {
		dst = append(dst, g711.DecodeAlawFrame(b))
	}
	return dst
}

func tmpTone(freq float64, rate int, d time.Duration, amp float64) []int16 {
	n := int(d * time.Duration(rate) / time.Second)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

func tmpRMS(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(s)))
}

func tmpFrequency(s []int16, rate int) float64 {
	var crossings int
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			crossings++
		}
	}
	return float64(crossings) / 2 / (float64(len(s)) / float64(rate))
}

func tmpMix(dst, a, b []int16) []int16 {
	for i := range a {
		v := int32(a[i]) + int32(b[i])
		v = max(min(v, math.MaxInt16), math.MinInt16)
		dst = append(dst, int16(v))
	}
	return dst
}

type tmpVAD struct{}

func tmpNewVAD(rate int) *tmpVAD { return &tmpVAD{} }

func (v *tmpVAD) Feed(frame []int16) bool { return tmpRMS(frame) > 500 }

// ---- tts ----

type tmpRequest struct{ Text, SSML, Voice, Locale, Gender string }

type tmpSynthesizer interface {
	Synthesize(ctx context.Context, r tmpRequest) (tmpClip, error)
}

// ---- dtmf ----

type tmpDecoder struct {
	have bool
	ts   uint32
}

func tmpNewDecoder() *tmpDecoder { return &tmpDecoder{} }

func (d *tmpDecoder) Packet(seq uint16, ts uint32, marker bool, payload []byte) (byte, bool) {
	if len(payload) < 4 || payload[0] > 15 {
		return 0, false
	}
	if d.have && d.ts == ts {
		return 0, false
	}
	d.have, d.ts = true, ts
	return "0123456789*#ABCD"[payload[0]], true
}

type tmpPacket struct {
	Payload     [4]byte
	Marker, End bool
}

func tmpEncode(key byte, d time.Duration) ([]tmpPacket, error) {
	ev := strings.IndexByte("0123456789*#ABCD", key)
	if ev < 0 {
		return nil, fmt.Errorf("not a DTMF key: %q", key)
	}
	n := int(d / (20 * time.Millisecond))
	var out []tmpPacket
	for i := 1; i <= n; i++ {
		p := tmpPacket{Marker: i == 1}
		p.Payload[0] = byte(ev)
		p.Payload[1] = 10
		binary.BigEndian.PutUint16(p.Payload[2:], uint16(i*160))
		out = append(out, p)
	}
	for range 3 {
		p := out[len(out)-1]
		p.Marker, p.End = false, true
		p.Payload[1] |= 0x80
		out = append(out, p)
	}
	return out, nil
}

func tmpParseInfo(contentType string, body []byte) (byte, time.Duration, error) {
	for _, l := range strings.Split(string(body), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if ok && strings.TrimSpace(strings.ToLower(k)) == "signal" {
			v = strings.TrimSpace(v)
			if len(v) == 1 {
				return v[0], 0, nil
			}
		}
	}
	if strings.Contains(contentType, "application/dtmf") && !strings.Contains(contentType, "relay") {
		v := strings.TrimSpace(string(body))
		if len(v) == 1 {
			return v[0], 0, nil
		}
	}
	return 0, 0, errors.New("no signal")
}

// ---- siphdr ----

type tmpField struct{ Name, Value string }

type tmpInbound struct {
	SIPHeaders map[string]string
	Diversion  callback.Diversion
	UUI        string
	StirShaken *callback.StirShaken
	Identity   string
}

func tmpReadInbound(fs []tmpField) tmpInbound {
	var in tmpInbound
	for _, f := range fs {
		if strings.HasPrefix(strings.ToLower(f.Name), "x-") {
			if in.SIPHeaders == nil {
				in.SIPHeaders = map[string]string{}
			}
			in.SIPHeaders[strings.ToLower(f.Name)] = f.Value
		}
		if strings.EqualFold(f.Name, "User-to-User") {
			in.UUI = f.Value
		}
	}
	return in
}

type tmpOutbound struct {
	From, DisplayName string
	Privacy           bool
	UUI, Host         string
}

func tmpOutboundFields(o tmpOutbound) (string, []tmpField) {
	from := "<sip:" + o.From + "@" + o.Host + ">"
	if o.DisplayName != "" {
		from = strconv.Quote(o.DisplayName) + " " + from
	}
	var extra []tmpField
	if o.Privacy {
		from = `"Anonymous" <sip:anonymous@anonymous.invalid>`
		extra = append(extra, tmpField{"P-Asserted-Identity", "<sip:" + o.From + "@" + o.Host + ">"}, tmpField{"Privacy", "id"})
	}
	if o.UUI != "" {
		extra = append(extra, tmpField{"User-to-User", o.UUI})
	}
	return from, extra
}

type tmpOutcome int

const (
	tmpAnswered tmpOutcome = iota
	tmpBusy
	tmpRejected
	tmpNoAnswer
	tmpFailed
	tmpTryNext
)

func tmpFinal(code int) (tmpOutcome, string) {
	switch {
	case code >= 200 && code < 300:
		return tmpAnswered, ""
	case code == 486 || code == 600:
		return tmpBusy, ""
	case code == 603 || code == 607 || code == 608:
		return tmpRejected, ""
	case code == 408 || code == 480:
		return tmpNoAnswer, ""
	case code == 503:
		return tmpTryNext, "SIP 503 Service Unavailable"
	}
	return tmpFailed, fmt.Sprintf("SIP %d", code)
}
