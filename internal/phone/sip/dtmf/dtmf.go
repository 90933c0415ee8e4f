// Package dtmf reads and writes key presses as they travel in a SIP call:
// RFC 4733 telephone-event RTP payloads (Decoder, Encode) and SIP INFO bodies
// (ParseInfo).
//
// It is pure logic: no sockets, no goroutines, no SIP library. The caller owns
// the RTP stream, filters packets by the negotiated telephone-event payload
// type, and paces what Encode returns.
package dtmf

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Event codes 0-15 are the sixteen DTMF keys; keys maps them to characters.
const keys = "0123456789*#ABCD"

// KeyOf returns the character of a DTMF event code, and false for a code
// that is not a key (flash 16, tones and the rest).
func KeyOf(event byte) (byte, bool) {
	if int(event) >= len(keys) {
		return 0, false
	}
	return keys[event], true
}

// EventOf returns the event code of a key: '0'-'9', '*', '#', 'A'-'D' (or
// 'a'-'d').
func EventOf(key byte) (byte, bool) {
	if key >= 'a' && key <= 'd' {
		key -= 'a' - 'A'
	}
	for i := range len(keys) {
		if keys[i] == key {
			return byte(i), true
		}
	}
	return 0, false
}

// remembered is how many recent events a Decoder keeps. A packet whose
// timestamp is among them is a repeat, however late or duplicated.
const remembered = 32

// lateWindow is how far behind the newest event, in timestamp units, a new
// timestamp is taken for a late packet of an event that was missed
// (dropped, so keys are not reported out of order) rather than for a stream
// whose timestamps jumped back (a new event). 1<<19 is 65 s at 8 kHz and
// 11 s at 48 kHz, far longer than any jitter buffer holds a packet.
const lateWindow = 1 << 19

// Decoder turns RFC 4733 telephone-event packets into key presses.
//
// An event is identified by its RTP timestamp: the first packet seen of an
// event, whichever of its packets that is, yields the key once; later packets
// of that event yield nothing. That makes it tolerant of what real gateways
// and SIPp send: a first packet with duration 0, the end packet repeated,
// lost packets (the first, marked one and the end ones included), duplicated
// and reordered packets, 16-bit sequence wrap (the sequence number is not
// used), 32-bit timestamp wrap, and the same key pressed twice in a row (a
// new timestamp). A packet of an older event that arrives after a newer one
// began is dropped, so keys are never reported out of order.
//
// The decoder remembers the last 32 events. It also follows the RFC 4733
// continuation of a long event (a key held past the 16-bit duration, sent as
// a new segment with a later timestamp and the same event code), which does
// not yield the key again.
//
// RFC 4733 §2.5 (sender procedures, §2.5.1.2 as I recall it; the RFC text
// could not be checked here) has the first packet sent as soon as the event is
// recognised, with the duration counted from the event's start; nothing there,
// as far as I know, forbids that duration being 0, and gateways do send it.
// The decoder does not depend on the duration for identification anyway.
//
// A Decoder is not safe for concurrent use: use one per RTP stream.
type Decoder struct {
	seen  [remembered]uint32 // ring of recent event timestamps
	n     int                // how many of seen are valid (≤ remembered)
	next  int                // where the next timestamp goes in seen
	last  uint32             // timestamp of the newest event
	event byte               // event code of the newest event
	dur   uint16             // longest duration seen of the newest event
	ended bool               // an end packet of the newest event was seen
}

// NewDecoder returns a decoder that has seen no event.
func NewDecoder() *Decoder { return &Decoder{} }

// Packet takes one packet's RTP header fields and payload; ok reports a new
// key press. Payloads shorter than 4 bytes and event codes that are not keys
// yield nothing; bytes after the first 4 are ignored.
func (d *Decoder) Packet(seq uint16, ts uint32, marker bool, payload []byte) (key byte, ok bool) {
	_, _ = seq, marker // events are told apart by timestamp alone
	if len(payload) < 4 {
		return 0, false
	}
	event := payload[0]
	end := payload[1]&0x80 != 0
	dur := binary.BigEndian.Uint16(payload[2:4])
	k, isKey := KeyOf(event)
	if !isKey {
		return 0, false
	}
	if d.known(ts) {
		if ts == d.last {
			d.dur = max(d.dur, dur)
			d.ended = d.ended || end
		}
		return 0, false
	}
	if d.n > 0 {
		behind := d.last - ts // serial arithmetic: small means ts is older
		if behind != 0 && behind < lateWindow {
			return 0, false
		}
		if d.continues(ts, event) {
			d.remember(ts, event, dur, end)
			return 0, false
		}
	}
	d.remember(ts, event, dur, end)
	return k, true
}

// known reports whether ts is one of the remembered events.
func (d *Decoder) known(ts uint32) bool {
	for i := range d.n {
		if d.seen[i] == ts {
			return true
		}
	}
	return false
}

// continues reports whether a packet at ts with this event code is the next
// segment of the newest event, held past what 16 bits of duration count: the
// newest event has not ended, has the same code, has run close to 0xFFFF, and
// ts lies between its longest duration and 0xFFFF after its start.
func (d *Decoder) continues(ts uint32, event byte) bool {
	if d.ended || event != d.event || d.dur < 0xF000 {
		return false
	}
	ahead := ts - d.last
	return ahead >= uint32(d.dur) && ahead <= 0xFFFF
}

func (d *Decoder) remember(ts uint32, event byte, dur uint16, end bool) {
	d.seen[d.next] = ts
	d.next = (d.next + 1) % remembered
	d.n = min(d.n+1, remembered)
	d.last, d.event, d.dur, d.ended = ts, event, dur, end
}

// Packet is one RTP packet of a key press made by Encode.
type Packet struct {
	// Payload is the telephone-event payload: event, E bit and volume,
	// duration.
	Payload [4]byte
	// Marker is set on the first packet of the event only.
	Marker bool
	// End is set on the three end packets (the E bit of Payload).
	End bool
	// Duration is the duration in Payload, in 8 kHz timestamp units.
	Duration uint16
}

// Clock rate, packet interval and volume Encode uses.
const (
	ClockRate = 8000                  // timestamp units per second
	Interval  = 20 * time.Millisecond // between packets
	step      = ClockRate / 50        // timestamp units per Interval: 160
	volume    = 10                    // -10 dBm0
	endCount  = 3                     // the end packet is sent this often
	maxHold   = 8 * time.Second       // 64000 units, inside 16 bits
)

// Encode produces the packets of one key press held for d, for an 8 kHz clock
// and 20 ms packets. The first packet has Marker set; the duration grows by
// 160 each packet until it reaches d, then the end packet (E bit) follows
// three times with the final duration. Volume is 10. All the packets share one
// RTP timestamp, the event's start, which the caller chooses; the caller sends
// the non-end packets Interval apart and the end packets together or
// Interval apart. A press of 20 ms or less is the end packet alone, three
// times, the first marked.
//
// Encode returns an error for a key that is not a DTMF key or for d outside
// (0, 8s].
func Encode(key byte, d time.Duration) ([]Packet, error) {
	event, ok := EventOf(key)
	if !ok {
		return nil, fmt.Errorf("dtmf: %q is not a DTMF key (0-9, *, #, A-D)", key)
	}
	if d <= 0 || d > maxHold {
		return nil, fmt.Errorf("dtmf: key press of %v: want more than 0 and at most %v", d, maxHold)
	}
	total := int((d*ClockRate + time.Second - 1) / time.Second) // rounded up, ≥ 1
	pkts := make([]Packet, 0, total/step+endCount)
	for dur := step; dur < total; dur += step {
		pkts = append(pkts, packet(event, uint16(dur), false))
	}
	for range endCount {
		pkts = append(pkts, packet(event, uint16(total), true))
	}
	pkts[0].Marker = true
	return pkts, nil
}

func packet(event byte, dur uint16, end bool) Packet {
	p := Packet{End: end, Duration: dur}
	p.Payload[0] = event
	p.Payload[1] = volume
	if end {
		p.Payload[1] |= 0x80
	}
	binary.BigEndian.PutUint16(p.Payload[2:], dur)
	return p
}
