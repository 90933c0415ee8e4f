package stream_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

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

// A transcription socket's start carries the call, the transcription, its
// tracks, stabilized and the custom params in order; a transcript is a
// transcription message with its times in seconds to the millisecond and
// the punctuation that ends a word as an item of its own.
func TestTranscriptionFrames(t *testing.T) {
	start, err := json.Marshal(stream.TranscriptionStart{
		Metadata: stream.TranscriptionMetadata{AccountID: "9900000", CallID: "c-1", RealTimeTranscriptionID: "t-1",
			TranscriptionName: "notes", Tracks: []stream.TranscriptionTrack{{Name: "inbound"}}, Stabilized: true},
		Params: []stream.Param{{Name: "z", Value: "1"}, {Name: "a", Value: "2"}, {Name: "z", Value: "3"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"eventType":"start","metadata":{"accountId":"9900000","callId":"c-1","realTimeTranscriptionId":"t-1",` +
		`"transcriptionName":"notes","tracks":[{"name":"inbound"}],"stabilized":true},"customParams":{"z":"3","a":"2"}}`
	if string(start) != want {
		t.Errorf("start:\n%s\nwant:\n%s", start, want)
	}
	bare, _ := json.Marshal(stream.TranscriptionStart{})
	if want := `{"eventType":"start","metadata":{"accountId":"","callId":"","realTimeTranscriptionId":"","transcriptionName":"","tracks":[],"stabilized":false},"customParams":{}}`; string(bare) != want {
		t.Errorf("bare start:\n%s\nwant:\n%s", bare, want)
	}

	ms := time.Millisecond
	msg := stream.AppendTranscription([]byte("x"), stream.Transcription{
		Track: "inbound", Start: 1230 * ms, End: 2500 * ms, Language: "en-US", Text: `I "order." Why?!`,
		Words: []stream.Word{
			{Text: "I", Start: 1230 * ms, End: 1400 * ms, Confidence: 1},
			{Text: `"order."`, Start: 1400 * ms, End: 2000*ms + 400*time.Microsecond, Confidence: 0.875},
			{Text: "Why?!", Start: 2000 * ms, End: 2500 * ms, Confidence: 2},
			{Text: "…", Start: 2500 * ms, End: 2500 * ms, Confidence: -1},
		},
	})
	want = `x{"eventType":"transcription","track":"inbound","startTime":1.23,"endTime":2.5,"isPartial":false,"language":"en-US",` +
		`"transcript":"I \"order.\" Why?!","items":[` +
		`{"content":"I","startTime":1.23,"endTime":1.4,"confidence":1,"stable":true,"type":"PRONUNCIATION"},` +
		`{"content":"\"order.\"","startTime":1.4,"endTime":2,"confidence":0.875,"stable":true,"type":"PRONUNCIATION"},` +
		`{"content":"Why","startTime":2,"endTime":2.5,"confidence":1,"stable":true,"type":"PRONUNCIATION"},` +
		`{"content":"?!","startTime":2.5,"endTime":2.5,"confidence":1,"stable":true,"type":"PUNCTUATION"},` +
		`{"content":"…","startTime":2.5,"endTime":2.5,"confidence":0,"stable":true,"type":"PUNCTUATION"}]}`
	if string(msg) != want {
		t.Errorf("transcription:\n%s\nwant:\n%s", msg, want)
	}
	if !json.Valid(msg[1:]) {
		t.Errorf("not JSON: %s", msg[1:])
	}
	empty := stream.AppendTranscription(nil, stream.Transcription{Track: "outbound", Start: -ms, End: 7 * ms})
	if want := `{"eventType":"transcription","track":"outbound","startTime":0,"endTime":0.007,"isPartial":false,"language":"","transcript":"","items":[]}`; string(empty) != want {
		t.Errorf("empty transcription:\n%s\nwant:\n%s", empty, want)
	}
}

// Whatever the words, a transcription message is valid JSON whose items,
// read back, spell the words.
func FuzzAppendTranscription(f *testing.F) {
	f.Add("order.", "I", int64(1230), 0.5)
	f.Add("?!…", "\"\\\x00", int64(-5), -1.0)
	f.Add("\xff.", "<a&b>", int64(1<<62), 1e300)
	f.Fuzz(func(t *testing.T, w1, w2 string, at int64, conf float64) {
		d := time.Duration(at)
		msg := stream.AppendTranscription(nil, stream.Transcription{Track: "inbound", Start: d, End: d, Text: w1 + " " + w2,
			Words: []stream.Word{{Text: w1, Start: d, End: d, Confidence: conf}, {Text: w2, Start: d, End: d, Confidence: conf}}})
		var m struct {
			Items []struct {
				Content    string
				StartTime  float64
				Confidence float64
			}
		}
		if err := json.Unmarshal(msg, &m); err != nil {
			t.Fatalf("not JSON: %v: %s", err, msg)
		}
		var spelled string
		for _, it := range m.Items {
			if it.StartTime < 0 || it.Confidence < 0 || it.Confidence > 1 {
				t.Errorf("item %+v out of range", it)
			}
			spelled += it.Content
		}
		if want := asJSON(t, w1) + asJSON(t, w2); spelled != want {
			t.Errorf("items spell %q, want %q", spelled, want)
		}
	})
}

// asJSON is s as it reads back from JSON: each byte of invalid UTF-8 is
// U+FFFD.
func asJSON(t *testing.T, s string) string {
	b, _ := json.Marshal(s)
	var back string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

// A sentence of twelve words, the last with a full stop.
func BenchmarkAppendTranscription(b *testing.B) {
	words := strings.Fields("I would like to order a large pizza with extra cheese please.")
	t := stream.Transcription{Track: "inbound", End: 3 * time.Second, Language: "en-US", Text: strings.Join(words, " ")}
	for i, w := range words {
		t.Words = append(t.Words, stream.Word{Text: w, Start: time.Duration(i) * 250 * time.Millisecond,
			End: time.Duration(i+1) * 250 * time.Millisecond, Confidence: 1})
	}
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		buf = stream.AppendTranscription(buf[:0], t)
	}
}
