package callback_test

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/voicehook/voicehook/callback"
)

// FuzzDecode feeds arbitrary bodies to Decode. It must never panic, and
// whatever it accepts must reach a fixed point: encoding, decoding and
// encoding again gives the same bytes.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/golden/*.json")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `[]`, `"disconnect"`, `{}`, `{"eventType":null}`, `{"eventType":7}`,
		`{"eventType":"disconnect","eventType":"answer"}`,
		`{"eventType":"answer","tag":""}`,
		`{"eventType":"gather","digits":5}`,
		`{"eventType":"recordingComplete","duration":"PT1H2M3.5S"}`,
		`{"eventType":"machineDetectionComplete","machineDetectionResult":"human"}`,
		`{"eventType":"realtimeTranscriptionStopped","transcription":{"id":"t-1"}}`,
		`{"eventType":"futureEvent","x":{"y":[1,2,{"z":null}]}}`,
		`{"nested":{"eventType":"answer"},"eventType":"disconnect"}`,
		`{"eventType":"disconnect","eventTime":"2019-06-20T15:55:55.533+02:00"}`,
		"{\"eventType\":\"answer\",\"from\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := callback.Decode(body)
		if err != nil {
			var fe *callback.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Decode error is not a *FieldError: %T %v", err, err)
			}
			if fe.Error() == "" {
				t.Fatal("empty error message")
			}
			if ev == nil || errors.Is(err, callback.ErrMissingEventType) {
				return
			}
			if !errors.Is(err, callback.ErrUnknownEventType) {
				t.Fatalf("Decode returned both an event and %v", err)
			}
		}
		enc1, err := callback.Encode(ev)
		if err != nil {
			t.Fatalf("Encode of a decoded %T: %v\nbody: %q", ev, err, body)
		}
		ev2, err := callback.Decode(enc1)
		if err != nil && !errors.Is(err, callback.ErrUnknownEventType) {
			t.Fatalf("Decode(Encode(ev)): %v\nencoded: %s", err, enc1)
		}
		enc2, err := callback.Encode(ev2)
		if err != nil {
			t.Fatalf("second Encode: %v", err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("not a fixed point:\n%s\n%s", enc1, enc2)
		}
	})
}

// FuzzDecodeQuery feeds arbitrary query strings to DecodeQuery: no panic,
// and a known event it accepts survives EncodeQuery and DecodeQuery
// unchanged. (An Unknown event's query form is documented as lossy: the
// query cannot say which values were numbers.)
func FuzzDecodeQuery(f *testing.F) {
	f.Add("eventType=disconnect&cause=busy&callId=c-1&sipResponseCode=486")
	f.Add("eventType=initiate&diversion[origTo]=%2B15551234567&diversion.reason=unavailable")
	f.Add("eventType=mediaStreamStarted&mediaStream[tracks][]=inbound&mediaStream[tracks][1]=outbound")
	f.Add("eventType=recordComplete&channels=two")
	f.Add("eventType=x&a[b][c]=1&a[b][d]=2")
	f.Add("eventType=answer&machineDetectionResult=%7B%22value%22%3A%22human%22%7D")
	f.Add("a[=1&]=2&[x]=3")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		ev, err := callback.DecodeQuery(q)
		if err != nil {
			var fe *callback.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("DecodeQuery error is not a *FieldError: %T %v", err, err)
			}
			if ev == nil || !errors.Is(err, callback.ErrUnknownEventType) {
				return
			}
		}
		q2, err := callback.EncodeQuery(ev)
		if err != nil {
			t.Fatalf("EncodeQuery of a decoded %T: %v", ev, err)
		}
		if _, unknown := ev.(*callback.Unknown); unknown {
			return
		}
		ev2, err := callback.DecodeQuery(q2)
		if err != nil {
			t.Fatalf("DecodeQuery(EncodeQuery(ev)): %v\nquery: %s", err, q2.Encode())
		}
		a, _ := callback.Encode(ev)
		b, _ := callback.Encode(ev2)
		if !bytes.Equal(a, b) {
			t.Fatalf("query round trip changed the event:\n%s\n%s", a, b)
		}
	})
}
