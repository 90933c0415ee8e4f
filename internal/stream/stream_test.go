package stream_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/internal/stream"
)

// The frames voicehook sends are the JSON Bandwidth documents: a start
// with its metadata, tracks and params; media with the track and base64
// PCMU; stop.
func TestFramesVoicehookSends(t *testing.T) {
	start, err := json.Marshal(stream.Start{
		Metadata: stream.Metadata{AccountID: "9900000", CallID: "c-1", StreamID: "s-1", StreamName: "bot",
			Tracks: []stream.Track{{Name: stream.TrackInbound, MediaFormat: stream.PCMU}, {Name: stream.TrackOutbound, MediaFormat: stream.PCMU}}},
		Params: []stream.Param{{Name: "customer", Value: "42"}, {Name: "a", Value: "<1>"}, {Name: "customer", Value: "43"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"eventType":"start","metadata":{"accountId":"9900000","callId":"c-1","streamId":"s-1","streamName":"bot",` +
		`"tracks":[{"name":"inbound","mediaFormat":{"encoding":"audio/PCMU","sampleRate":8000}},` +
		`{"name":"outbound","mediaFormat":{"encoding":"audio/PCMU","sampleRate":8000}}]},"streamParams":{"customer":"43","a":"\u003c1\u003e"}}`
	if string(start) != want {
		t.Errorf("start:\n%s\nwant:\n%s", start, want)
	}
	noParams, _ := json.Marshal(stream.Start{Metadata: stream.Metadata{Tracks: []stream.Track{}}})
	if strings.Contains(string(noParams), "streamParams") {
		t.Errorf("a start without params: %s", noParams)
	}

	payload := []byte{0xff, 0x7f, 0x00, 0x80, 0x13}
	var media struct{ EventType, Track, Payload string }
	if err := json.Unmarshal(stream.Media(`in"bound`, payload), &media); err != nil {
		t.Fatalf("media is not JSON: %v: %s", err, stream.Media(`in"bound`, payload))
	}
	got, _ := base64.StdEncoding.DecodeString(media.Payload)
	if media.EventType != "media" || media.Track != `in"bound` || string(got) != string(payload) {
		t.Errorf("media read back as %+v, payload %v", media, got)
	}
	seq := string(stream.AppendMedia([]byte("x"), "outbound", 7, []byte{0xff, 0x7f}))
	if want := `x{"eventType":"media","track":"outbound","sequenceNumber":7,"payload":"/38="}`; seq != want {
		t.Errorf("AppendMedia: %s, want %s", seq, want)
	}
	if string(stream.Stop()) != `{"eventType":"stop"}` {
		t.Errorf("stop: %s", stream.Stop())
	}
}

// What a bidirectional stream's destination sends is read, or refused with
// an error that names what was wrong.
func TestRead(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	m, err := stream.Read([]byte(`{"eventType":"clear"}`))
	if err != nil || !m.Clear || m.Play != nil {
		t.Errorf("clear: %+v, %v", m, err)
	}
	m, err = stream.Read([]byte(`{"eventType":"playAudio","media":{"contentType":"audio/pcmu","payload":"` + b64([]byte{1, 2, 3}) + `"}}`))
	if err != nil || m.Play == nil || !m.Play.ULaw || m.Play.Rate != 8000 || string(m.Play.Data) != "\x01\x02\x03" {
		t.Errorf("pcmu: %+v, %v", m.Play, err)
	}
	// Two samples, little-endian signed: 1000 and -2.
	pcm := []byte{0xe8, 0x03, 0xfe, 0xff}
	m, err = stream.Read([]byte(`{"eventType":"playAudio","media":{"contentType":"audio/pcm;rate=16000;channels=1;bit-depth=16;endian=little;encoding=signed","payload":"` + b64(pcm) + `"}}`))
	if err != nil || m.Play == nil || m.Play.ULaw || m.Play.Rate != 16000 || len(m.Play.Samples) != 2 || m.Play.Samples[0] != 1000 || m.Play.Samples[1] != -2 {
		t.Errorf("pcm: %+v, %v", m.Play, err)
	}

	for _, c := range []struct{ frame, err string }{
		{`not json`, "not a JSON object"},
		{`{"media":{}}`, `no "eventType"`},
		{`{"eventType":"mark"}`, `eventType "mark"`},
		{`{"eventType":"playAudio"}`, `no "media"`},
		{`{"eventType":"playAudio","media":{"contentType":"audio/pcmu","payload":"!!"}}`, "not base64"},
		{`{"eventType":"playAudio","media":{"contentType":"audio/pcm;rate=8000","payload":"AAAA"}}`, "3 bytes"},
		{`{"eventType":"playAudio","media":{"contentType":"audio/x-mulaw","payload":""}}`, `want "audio/pcmu"`},
		{`{"eventType":"playAudio","media":{"contentType":"audio/pcm","payload":""}}`, "needs its rate"},
		{`{"eventType":"playAudio","media":{"contentType":"audio/pcm;rate=44100","payload":""}}`, `rate "44100"`},
		{`{"eventType":"playAudio","media":{"contentType":"audio/pcm;rate=8000;channels=2","payload":""}}`, "channels=2"},
		{`{"eventType":"playAudio","media":{"contentType":"audio/pcm;rate=8000;volume=3","payload":""}}`, `unknown parameter "volume"`},
		{`{"eventType":"playAudio","media":{"contentType":"audio/pcmu;rate=16000","payload":""}}`, "takes no parameters"},
	} {
		if _, err := stream.Read([]byte(c.frame)); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want one saying %q", c.frame, err, c.err)
		}
	}
	huge := `{"eventType":"playAudio","media":{"contentType":"audio/pcmu","payload":"` + strings.Repeat("A", stream.MaxFrame) + `"}}`
	if _, err := stream.Read([]byte(huge)); err != stream.ErrTooLarge {
		t.Errorf("a frame over MaxFrame: %v", err)
	}
}

// Whatever a destination sends, Read answers without panicking, and what
// it accepts is a clear or something to play.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"eventType":"clear"}`))
	f.Add([]byte(`{"eventType":"playAudio","media":{"contentType":"audio/pcm;rate=24000","payload":"AAA="}}`))
	f.Add([]byte(`{"eventType":"playAudio","media":{"contentType":"audio/pcmu","payload":"/w=="}}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := stream.Read(frame)
		if err == nil && m.Clear == (m.Play != nil) {
			t.Errorf("%q read as %+v", frame, m)
		}
	})
}

// Encoding a media frame into a buffer with room allocates nothing: a
// server sends thousands a second.
func TestAppendMediaAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 512)
	pcmu := make([]byte, 160)
	if n := testing.AllocsPerRun(100, func() { buf = stream.AppendMedia(buf[:0], "inbound", 12345, pcmu) }); n != 0 {
		t.Errorf("AppendMedia allocates %v times a frame", n)
	}
}

func BenchmarkAppendMedia(b *testing.B) {
	buf := make([]byte, 0, 512)
	pcmu := make([]byte, 160)
	for i := 0; b.Loop(); i++ {
		buf = stream.AppendMedia(buf[:0], "inbound", uint64(i+1), pcmu)
	}
}
