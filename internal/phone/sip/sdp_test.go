package sip

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestParseSDP(t *testing.T) {
	// The addresses are only parsed.
	offer := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" + // only parsed or refused by the guard: never dialled
		"m=audio 4000 RTP/AVP 8 0 18 96\r\nc=IN IP4 192.0.2.7\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:18 G729/8000\r\na=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\n"
	s, err := parseSDP([]byte(offer))
	if err != nil {
		t.Fatal(err)
	}
	if s.addr != netip.MustParseAddrPort("192.0.2.7:4000") || !slices.Equal(s.codecs, []uint8{8, 0}) || s.event != 96 {
		t.Errorf("got %+v", s)
	}
	for _, bad := range []string{
		"",
		"v=0\r\nc=IN IP4 192.0.2.1\r\nm=video 4000 RTP/AVP 96\r\n", // only parsed or refused by the guard: never dialled
		"v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 18\r\n", // only parsed or refused by the guard: never dialled
		"v=0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 99999 RTP/AVP 0\r\n", // only parsed or refused by the guard: never dialled
		strings.Repeat("a", maxSDP+1),
		"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n", // only parsed or refused by the guard: never dialled
		"v=0\r\nc=IN IP6 ::\r\nm=audio 4000 RTP/AVP 0\r\n",
		"v=0\r\nc=IN IP4 224.2.1.1/127\r\nm=audio 4000 RTP/AVP 0\r\n",
		"v=0\r\nc=IN IP6 ff0e::1\r\nm=audio 4000 RTP/AVP 0\r\n",
	} {
		if _, err := parseSDP([]byte(bad)); err == nil {
			t.Errorf("parseSDP(%.60q) accepted it", bad)
		}
	}
}

func TestWriteSDPRoundTrip(t *testing.T) {
	s, err := parseSDP(writeSDP("127.0.0.1", 20002, []uint8{ptPCMA}, 97))
	if err != nil {
		t.Fatal(err)
	}
	if s.addr != netip.MustParseAddrPort("127.0.0.1:20002") || !slices.Equal(s.codecs, []uint8{ptPCMA}) || s.event != 97 {
		t.Errorf("got %+v", s)
	}
}

func FuzzParseSDP(f *testing.F) {
	f.Add(writeSDP("127.0.0.1", 20000, []uint8{0, 8}, 101))
	f.Add([]byte("v=0\nc=IN IP6 ::1\nm=audio 1 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n"))
	f.Add([]byte("m=audio x RTP/AVP\nc=IN\na=rtpmap:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := parseSDP(b)
		if err == nil && (len(s.codecs) == 0 || !s.addr.IsValid()) {
			t.Errorf("accepted %q as %+v", b, s)
		}
	})
}
