package dtmf

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"
)

// pkt is one received packet in a test sequence.
type pkt struct {
	seq    uint16
	ts     uint32
	marker bool
	event  byte
	end    bool
	dur    uint16
}

func (p pkt) payload() []byte {
	b := make([]byte, 4)
	b[0] = p.event
	b[1] = 10
	if p.end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], p.dur)
	return b
}

// press builds the packets a typical gateway sends for one key: a marked
// first packet with duration first, growing by 160, then the end packet three
// times. Sequence numbers start at seq and may wrap.
func press(seq uint16, ts uint32, event byte, first uint16, n int) []pkt {
	var out []pkt
	dur := first
	for i := range n {
		out = append(out, pkt{seq: seq, ts: ts, marker: i == 0, event: event, dur: dur})
		seq++
		dur += 160
	}
	for range 3 {
		out = append(out, pkt{seq: seq, ts: ts, event: event, end: true, dur: dur})
		seq++
	}
	return out
}

func decode(d *Decoder, pkts []pkt) string {
	var got strings.Builder
	for _, p := range pkts {
		if k, ok := d.Packet(p.seq, p.ts, p.marker, p.payload()); ok {
			got.WriteByte(k)
		}
	}
	return got.String()
}

func concat(parts ...[]pkt) []pkt {
	var out []pkt
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// drop returns pkts without the packets at the given indexes.
func drop(pkts []pkt, idx ...int) []pkt {
	skip := map[int]bool{}
	for _, i := range idx {
		skip[i] = true
	}
	var out []pkt
	for i, p := range pkts {
		if !skip[i] {
			out = append(out, p)
		}
	}
	return out
}

func TestDecoder(t *testing.T) {
	one := press(100, 8000, 1, 160, 5)    // '1': 5 packets + 3 ends = 8
	two := press(108, 9600, 2, 160, 5)    // '2'
	again := press(116, 11200, 1, 160, 5) // '1' again, new timestamp
	swap := func(p []pkt, i, j int) []pkt {
		p = append([]pkt(nil), p...)
		p[i], p[j] = p[j], p[i]
		return p
	}
	tests := []struct {
		name string
		pkts []pkt
		want string
	}{
		{"one key", one, "1"},
		{"first packet of duration 0", press(1, 500, 5, 0, 4), "5"},
		{"end packet repeated", concat(one, one[len(one)-3:], one[len(one)-3:]), "1"},
		{"first (marked) packet lost", drop(one, 0), "1"},
		{"all but the end packets lost", one[5:], "1"},
		{"only the last end packet", one[len(one)-1:], "1"},
		{"end packets lost, then the next key", concat(one[:5], two), "12"},
		{"every packet duplicated", concat(one[:1], one[:1], one[1:2], one[1:2], one[2:]), "1"},
		{"reordered inside the event", swap(one, 0, 3), "1"},
		{"late packet of the previous event after the next began",
			concat(one[:4], two[:2], one[4:5], two[2:], one[5:]), "12"},
		{"lone late packet of a missed older event is dropped, not reported out of order",
			concat(two[:2], one[6:7], two[2:]), "2"},
		{"sequence wraps inside an event", press(65533, 4000, 9, 160, 6), "9"},
		{"sequence wraps between events", concat(press(65530, 4000, 3, 160, 3), press(2, 6000, 4, 160, 3) /* 65530+6 wrapped */), "34"},
		{"timestamp wraps between events", concat(press(1, 0xFFFFFF00, 7, 160, 3), press(7, 0x00000040, 8, 160, 3)), "78"},
		{"same key twice in a row", concat(one, again), "11"},
		{"same key twice, end packets of the first lost", concat(one[:5], again), "11"},
		{"keys 0-9 * # A-D", allKeys(), "0123456789*#ABCD"},
		{"flash and tones are ignored", concat(press(1, 100, 16, 160, 3), press(10, 2000, 66, 160, 3), press(20, 4000, 0, 160, 3)), "0"},
		{"timestamps jump back a long way (new stream source)",
			concat(press(1, 3_000_000, 1, 160, 3), press(10, 1000, 2, 160, 3)), "12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decode(NewDecoder(), tt.pkts); got != tt.want {
				t.Errorf("keys = %q, want %q", got, tt.want)
			}
		})
	}
}

func allKeys() []pkt {
	var out []pkt
	for e := range byte(16) {
		out = append(out, press(uint16(e)*8, uint32(e)*1600, e, 160, 2)...)
	}
	return out
}

func TestDecoderShortPayload(t *testing.T) {
	d := NewDecoder()
	for _, p := range [][]byte{nil, {}, {1}, {1, 10, 0}} {
		if k, ok := d.Packet(1, 1, true, p); ok {
			t.Errorf("payload %v gave key %q", p, k)
		}
	}
	if k, ok := d.Packet(1, 1, true, []byte{5, 10, 0, 160, 0xFF, 0xFF}); !ok || k != '5' {
		t.Errorf("6-byte payload: key %q, %v; want '5' (extra bytes ignored)", k, ok)
	}
}

func TestDecoderLongEvent(t *testing.T) {
	// A key held past 0xFFFF units goes on in a new segment whose
	// timestamp is the old one plus 0xFFFF, with the same event code and
	// no marker. It is one key press.
	d := NewDecoder()
	ts := uint32(10_000)
	var got string
	feed := func(ts uint32, dur uint16, end bool) {
		p := pkt{ts: ts, event: 6, dur: dur, end: end}
		if k, ok := d.Packet(0, ts, false, p.payload()); ok {
			got += string(k)
		}
	}
	for dur := 160; dur <= 0xFFFF; dur += 160 {
		feed(ts, uint16(dur), false)
	}
	feed(ts, 0xFFFF, false)
	for dur := 160; dur <= 4800; dur += 160 {
		feed(ts+0xFFFF, uint16(dur), false)
	}
	feed(ts+0xFFFF, 4800, true)
	if got != "6" {
		t.Errorf("keys = %q, want one \"6\"", got)
	}
	// The same key pressed again shortly after a normal press is two keys.
	d = NewDecoder()
	got = ""
	feed(ts, 800, true)
	feed(ts+1600, 800, true)
	if got != "66" {
		t.Errorf("keys = %q, want \"66\"", got)
	}
}

func TestEncode(t *testing.T) {
	pkts, err := Encode('#', 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// 800 units: 160, 320, 480, 640 then the end packet three times.
	wantDur := []uint16{160, 320, 480, 640, 800, 800, 800}
	if len(pkts) != len(wantDur) {
		t.Fatalf("got %d packets, want %d: %+v", len(pkts), len(wantDur), pkts)
	}
	for i, p := range pkts {
		end := i >= 4
		if p.Marker != (i == 0) || p.End != end || p.Duration != wantDur[i] {
			t.Errorf("packet %d: %+v, want marker %v end %v duration %d", i, p, i == 0, end, wantDur[i])
		}
		wantPayload := [4]byte{11, 10, byte(wantDur[i] >> 8), byte(wantDur[i])}
		if end {
			wantPayload[1] |= 0x80
		}
		if p.Payload != wantPayload {
			t.Errorf("packet %d payload % x, want % x", i, p.Payload, wantPayload)
		}
	}

	short, err := Encode('a', 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(short) != 3 || !short[0].Marker || !short[0].End || short[0].Duration != 80 || short[0].Payload[0] != 12 {
		t.Errorf("10 ms press of 'a': %+v, want 3 end packets of duration 80, event 12, first marked", short)
	}

	long, err := Encode('0', 8*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if last := long[len(long)-1]; last.Duration != 64000 {
		t.Errorf("8 s press ends with duration %d, want 64000", last.Duration)
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tt := range []struct {
		key  byte
		d    time.Duration
		want string
	}{
		{'E', time.Second, "not a DTMF key"},
		{'\x00', time.Second, "not a DTMF key"},
		{'5', 0, "at most 8s"},
		{'5', -time.Second, "at most 8s"},
		{'5', 8*time.Second + time.Millisecond, "at most 8s"},
	} {
		if _, err := Encode(tt.key, tt.d); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Encode(%q, %v) error = %v, want one containing %q", tt.key, tt.d, err, tt.want)
		}
	}
}

// TestRoundTrip decodes what Encode makes, for every key, with the first two
// packets dropped, duplicated end packets, and the same key twice.
func TestRoundTrip(t *testing.T) {
	for _, k := range []byte(keys) {
		pkts, err := Encode(k, 120*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDecoder()
		var got []byte
		var seq uint16 = 65534 // wraps
		for round, ts := range []uint32{160_000, 161_600} {
			for i, p := range pkts {
				seq++
				if round == 0 && i < 2 {
					continue // lost
				}
				if key, ok := d.Packet(seq, ts, p.Marker, p.Payload[:]); ok {
					got = append(got, key)
				}
			}
		}
		if want := string([]byte{k, k}); string(got) != want {
			t.Errorf("key %q: decoded %q, want %q", k, got, want)
		}
	}
}

func TestParseInfo(t *testing.T) {
	tests := []struct {
		ct, body string
		key      byte
		d        time.Duration
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', 160 * time.Millisecond},
		{"application/dtmf-relay", "Signal=5\nDuration=160", '5', 160 * time.Millisecond},
		{"Application/DTMF-Relay; charset=utf-8", "signal = # \n duration= 250 \n", '#', 250 * time.Millisecond},
		{"application/dtmf-relay", "SIGNAL=*", '*', 0},
		{"application/dtmf-relay", "Signal=10\r\nDuration=100", '*', 100 * time.Millisecond},
		{"application/dtmf-relay", "Signal=11", '#', 0},
		{"application/dtmf-relay", "Signal=d", 'D', 0},
		{"application/dtmf-relay", "Volume=10\r\nSignal=0\r\n\r\n", '0', 0},
		{"application/dtmf", "5", '5', 0},
		{"application/dtmf", " #\r\n", '#', 0},
		{"application/dtmf", "Signal=7\nDuration=100", '7', 100 * time.Millisecond},
	}
	for _, tt := range tests {
		key, d, err := ParseInfo(tt.ct, []byte(tt.body))
		if err != nil || key != tt.key || d != tt.d {
			t.Errorf("ParseInfo(%q, %q) = %q, %v, %v; want %q, %v", tt.ct, tt.body, key, d, err, tt.key, tt.d)
		}
	}
}

func TestParseInfoErrors(t *testing.T) {
	tests := []struct {
		ct, body, want string
	}{
		{"text/plain", "Signal=5", "content type"},
		{"", "Signal=5", "content type"},
		{"application/dtmf-relay", "", "no Signal"},
		{"application/dtmf-relay", "Duration=160", "no Signal"},
		{"application/dtmf-relay", "Signal=E", "Signal \"E\""},
		{"application/dtmf-relay", "Signal=16", "Signal \"16\""},
		{"application/dtmf-relay", "Signal=", "Signal \"\""},
		{"application/dtmf-relay", "Signal=5\nDuration=abc", "Duration \"abc\""},
		{"application/dtmf-relay", "Signal=5\nDuration=-5", "Duration \"-5\""},
		{"application/dtmf", "", "not a DTMF key"},
		{"application/dtmf", "55", "not a DTMF key"},
		{"application/dtmf-relay", "Signal=5\n" + strings.Repeat("x", 2000), "at most 1024"},
	}
	for _, tt := range tests {
		_, _, err := ParseInfo(tt.ct, []byte(tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseInfo(%q, %q) error = %v, want one containing %q", tt.ct, tt.body, err, tt.want)
		}
	}
}

// BenchmarkDecoderPacket measures one packet of a key press, the per-packet
// cost on an RTP stream's telephone-event payload type.
func BenchmarkDecoderPacket(b *testing.B) {
	pkts := press(1, 0, 5, 160, 10)
	d := NewDecoder()
	payloads := make([][]byte, len(pkts))
	for i, p := range pkts {
		payloads[i] = p.payload()
	}
	var ts uint32
	for i := 0; b.Loop(); i++ {
		if i%len(pkts) == 0 {
			ts += 1600
		}
		p := pkts[i%len(pkts)]
		d.Packet(p.seq, ts, p.marker, payloads[i%len(pkts)])
	}
}
