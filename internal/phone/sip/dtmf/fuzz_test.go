package dtmf

import (
	"encoding/binary"
	"strings"
	"testing"
)

// FuzzDecoder feeds random packet sequences: each 11 bytes of input are one
// packet (sequence 2, timestamp 4, marker 1, payload 4). At most remembered
// packets are read, the events a Decoder keeps.
func FuzzDecoder(f *testing.F) {
	seed := func(pkts []pkt) []byte {
		var b []byte
		for _, p := range pkts {
			b = binary.BigEndian.AppendUint16(b, p.seq)
			b = binary.BigEndian.AppendUint32(b, p.ts)
			m := byte(0)
			if p.marker {
				m = 1
			}
			b = append(b, m)
			b = append(b, p.payload()...)
		}
		return b
	}
	f.Add(seed(press(65534, 1000, 5, 0, 4)))
	f.Add(seed(concat(press(1, 0xFFFFFF00, 1, 160, 3), press(7, 100, 1, 160, 3))))
	f.Add(seed(allKeys()[:remembered]))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder()
		stamps := map[uint32]bool{}
		keys := 0
		for i := 0; i+11 <= len(data) && i/11 < remembered; i += 11 {
			b := data[i : i+11]
			ts := binary.BigEndian.Uint32(b[2:6])
			stamps[ts] = true
			k, ok := d.Packet(binary.BigEndian.Uint16(b[0:2]), ts, b[6]&1 == 1, b[7:11])
			if !ok {
				continue
			}
			keys++
			if !strings.ContainsRune("0123456789*#ABCD", rune(k)) {
				t.Fatalf("packet %d gave %q, not a key", i/11, k)
			}
			if want, _ := KeyOf(b[7]); k != want {
				t.Fatalf("packet %d of event %d gave %q, want %q", i/11, b[7], k, want)
			}
		}
		if keys > len(stamps) {
			t.Fatalf("%d keys from %d distinct timestamps", keys, len(stamps))
		}
	})
}

// FuzzParseInfo checks that any body gives a key or an error, never a panic,
// and that a key is always a DTMF key.
func FuzzParseInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160"))
	f.Add("application/dtmf-relay", []byte("signal=11\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf", []byte("Signal=="))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		key, d, err := ParseInfo(ct, body)
		if err != nil {
			if key != 0 || d != 0 {
				t.Fatalf("error %v with key %q, duration %v", err, key, d)
			}
			return
		}
		if !strings.ContainsRune("0123456789*#ABCD", rune(key)) {
			t.Fatalf("key %q is not a DTMF key", key)
		}
		if d < 0 {
			t.Fatalf("negative duration %v", d)
		}
	})
}
