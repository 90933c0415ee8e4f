package callback_test

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/callback"
)

// TestQueryRoundTripEveryEvent sends every event type, fully populated,
// through the GET query form and back.
func TestQueryRoundTripEveryEvent(t *testing.T) {
	for _, c := range allEvents() {
		t.Run(string(c.ev.Type()), func(t *testing.T) {
			ev := reflect.New(reflect.TypeOf(c.ev).Elem()).Interface().(callback.Event)
			populate(reflect.ValueOf(ev).Elem(), "")
			assertQueryRoundTrip(t, ev)
		})
	}
}

// TestQueryRoundTripDocExamples does the same for every documented example.
func TestQueryRoundTripDocExamples(t *testing.T) {
	forEachExample(t, func(t *testing.T, name, _ string, body []byte) {
		if _, malformed := malformedExamples[name]; malformed {
			return // covered by TestGolden
		}
		ev, err := callback.Decode(body)
		if err != nil {
			t.Fatal(err)
		}
		assertQueryRoundTrip(t, ev)
	})
}

func assertQueryRoundTrip(t *testing.T, ev callback.Event) {
	t.Helper()
	q, err := callback.EncodeQuery(ev)
	if err != nil {
		t.Fatalf("EncodeQuery: %v", err)
	}
	// Through the wire: a real GET carries the query as text.
	parsed, err := url.ParseQuery(q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	back, err := callback.DecodeQuery(parsed)
	if err != nil {
		t.Fatalf("DecodeQuery(%s): %v", q.Encode(), err)
	}
	want, got := encode(t, ev), encode(t, back)
	if got != want {
		t.Errorf("query round trip changed the event\n got: %s\nwant: %s\nquery: %s", got, want, q.Encode())
	}
}

func TestEncodeQueryForm(t *testing.T) {
	ev := decode(t, `{"eventType":"answer","callId":"c-1","machineDetectionResult":{"value":"human","duration":"PT4.5S"}}`)
	q, err := callback.EncodeQuery(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"eventType":                        {"answer"},
		"callId":                           {"c-1"},
		"machineDetectionResult[value]":    {"human"},
		"machineDetectionResult[duration]": {"PT4.5S"},
	}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("EncodeQuery = %v, want %v", q, want)
	}
	ms := decode(t, `{"eventType":"mediaStreamStarted","mediaStream":{"tracks":["inbound","outbound"]}}`)
	q, _ = callback.EncodeQuery(ms)
	if got := q["mediaStream[tracks][]"]; !reflect.DeepEqual(got, []string{"inbound", "outbound"}) {
		t.Errorf("tracks encoded as %v (%s)", got, q.Encode())
	}
	d := decode(t, `{"eventType":"disconnect","sipResponseCode":486,"cause":"busy"}`)
	q, _ = callback.EncodeQuery(d)
	if q.Get("sipResponseCode") != "486" || q.Get("cause") != "busy" {
		t.Errorf("disconnect query = %s", q.Encode())
	}
}

func TestDecodeQueryAcceptsOtherNotations(t *testing.T) {
	for _, raw := range []string{
		"eventType=initiate&diversion[origTo]=%2B15558884444&diversion[reason]=unavailable",
		"eventType=initiate&diversion.origTo=%2B15558884444&diversion.reason=unavailable",
		`eventType=initiate&diversion=` + url.QueryEscape(`{"origTo":"+15558884444","reason":"unavailable"}`),
	} {
		q, _ := url.ParseQuery(raw)
		ev, err := callback.DecodeQuery(q)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		in := ev.(*callback.Initiate)
		if in.Diversion.OrigTo() != "+15558884444" || in.Diversion.Reason() != "unavailable" {
			t.Errorf("%s: diversion %v", raw, in.Diversion)
		}
	}
	for _, raw := range []string{
		"eventType=mediaStreamStarted&mediaStream[tracks][0]=inbound&mediaStream[tracks][1]=outbound",
		"eventType=mediaStreamStarted&mediaStream[tracks][1]=outbound&mediaStream[tracks][0]=inbound",
		"eventType=mediaStreamStarted&mediaStream.tracks=inbound&mediaStream.tracks=outbound",
	} {
		q, _ := url.ParseQuery(raw)
		ev, err := callback.DecodeQuery(q)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		got := ev.(*callback.MediaStreamStarted).MediaStream.Tracks
		if !reflect.DeepEqual(got, []callback.Track{"inbound", "outbound"}) {
			t.Errorf("%s: tracks %v", raw, got)
		}
	}
	q, _ := url.ParseQuery("eventType=realtimeTranscriptionStopped&transcription[id]=t-1")
	ev, err := callback.DecodeQuery(q)
	if err != nil || ev.(*callback.RealTimeTranscriptionStopped).RealTimeTranscription.ID != "t-1" {
		t.Errorf("aliased key in query form: %v %v", ev, err)
	}
}

func TestDecodeQueryErrors(t *testing.T) {
	cases := map[string]string{
		"eventType=recordComplete&channels=two":                 "callback: recordComplete: channels: want an integer, got a string",
		"eventType=disconnect&cause=busy&cause=hangup":          "callback: cause: given 2 values, want 1",
		"eventType=initiate&diversion=%7Bnot+json":              "callback: diversion: malformed JSON: value is not a JSON object",
		"eventType=disconnect&endTime=noon":                     `callback: disconnect: endTime: invalid time "noon"`,
		"eventType=answer&callId=c-1&callId[x]=2":               "callback: callId: given both a value and sub-fields",
		"eventType=answer&a[b=1":                                "callback: a[b: query parameter \"a[b\": [ without ]",
		"eventType=mediaStreamStarted&mediaStream[tracks][x]=1": "callback: mediaStream.tracks: want an array, got named sub-fields",
	}
	for raw, want := range cases {
		q, _ := url.ParseQuery(raw)
		_, err := callback.DecodeQuery(q)
		var fe *callback.FieldError
		if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &fe) {
			t.Errorf("DecodeQuery(%s)\n error %v\n  want %q…", raw, err, want)
		}
	}
	q, _ := url.ParseQuery("callId=c-1")
	ev, err := callback.DecodeQuery(q)
	if !errors.Is(err, callback.ErrMissingEventType) || ev == nil {
		t.Errorf("no eventType: %v %v", ev, err)
	}
	q, _ = url.ParseQuery("eventType=futureThing&x[y]=1&list[]=a")
	ev, err = callback.DecodeQuery(q)
	if !errors.Is(err, callback.ErrUnknownEventType) {
		t.Fatalf("unknown eventType: %v", err)
	}
	if got := encode(t, ev); got != `{"eventType":"futureThing","list":["a"],"x":{"y":"1"}}` && got != `{"eventType":"futureThing","x":{"y":"1"},"list":["a"]}` {
		t.Errorf("unknown event from a query: %s", got)
	}
}
