package callback_test

import (
	"bytes"
	stdjson "encoding/json"
	"os"
	"testing"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// The documented "call ended due to a busy signal" disconnect.
func busyExample(b *testing.B) []byte {
	body, err := os.ReadFile("testdata/golden/disconnect-busy.json")
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkDecodeDisconnect(b *testing.B) {
	body := busyExample(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		ev, err := callback.Decode(body)
		if err != nil || ev.(*callback.Disconnect).Cause != callback.CauseBusy {
			b.Fatal(ev, err)
		}
	}
}

func BenchmarkEncodeDisconnect(b *testing.B) {
	ev, err := callback.Decode(busyExample(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := callback.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// stdlibDisconnect is what one writes with plain encoding/json: the
// baseline the figures in the README are compared with.
type stdlibDisconnect struct {
	EventType     string    `json:"eventType"`
	EventTime     time.Time `json:"eventTime"`
	AccountID     string    `json:"accountId"`
	ApplicationID string    `json:"applicationId"`
	From          string    `json:"from"`
	To            string    `json:"to"`
	Direction     string    `json:"direction"`
	CallID        string    `json:"callId"`
	CallURL       string    `json:"callUrl"`
	EnqueuedTime  time.Time `json:"enqueuedTime,omitzero"`
	StartTime     time.Time `json:"startTime"`
	AnswerTime    time.Time `json:"answerTime,omitzero"`
	EndTime       time.Time `json:"endTime"`
	Cause         string    `json:"cause"`
	ErrorMessage  *string   `json:"errorMessage,omitempty"`
	ErrorID       *string   `json:"errorId,omitempty"`
	Tag           *string   `json:"tag,omitempty"`
}

func BenchmarkDecodeDisconnectStdlib(b *testing.B) {
	body := busyExample(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var d stdlibDisconnect
		if err := stdjson.Unmarshal(body, &d); err != nil || d.Cause != "busy" {
			b.Fatal(d, err)
		}
	}
}

// wireTime is what one writes to make encoding/json emit the wire form of
// times (UTC, milliseconds, Z) that time.Time's own MarshalJSON does not.
type wireTime struct{ time.Time }

func (t wireTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// stdlibWireDisconnect is stdlibDisconnect with wire-form times: the
// baseline for encoding, since it produces the same bytes as Encode.
type stdlibWireDisconnect struct {
	EventType     string    `json:"eventType"`
	EventTime     wireTime  `json:"eventTime"`
	AccountID     string    `json:"accountId"`
	ApplicationID string    `json:"applicationId"`
	From          string    `json:"from"`
	To            string    `json:"to"`
	Direction     string    `json:"direction"`
	CallID        string    `json:"callId"`
	CallURL       string    `json:"callUrl"`
	EnqueuedTime  *wireTime `json:"enqueuedTime,omitempty"`
	StartTime     wireTime  `json:"startTime"`
	AnswerTime    *wireTime `json:"answerTime,omitempty"`
	EndTime       wireTime  `json:"endTime"`
	Cause         string    `json:"cause"`
	ErrorMessage  *string   `json:"errorMessage,omitempty"`
	ErrorID       *string   `json:"errorId,omitempty"`
	Tag           *string   `json:"tag,omitempty"`
}

func BenchmarkEncodeDisconnectStdlib(b *testing.B) {
	var d stdlibDisconnect
	if err := stdjson.Unmarshal(busyExample(b), &d); err != nil {
		b.Fatal(err)
	}
	w := stdlibWireDisconnect{
		EventType: d.EventType, EventTime: wireTime{d.EventTime}, AccountID: d.AccountID,
		ApplicationID: d.ApplicationID, From: d.From, To: d.To, Direction: d.Direction,
		CallID: d.CallID, CallURL: d.CallURL, StartTime: wireTime{d.StartTime},
		EndTime: wireTime{d.EndTime}, Cause: d.Cause, ErrorMessage: d.ErrorMessage, ErrorID: d.ErrorID,
	}
	want, err := callback.Encode(mustDecode(b, busyExample(b)))
	if err != nil {
		b.Fatal(err)
	}
	if got, _ := stdjson.Marshal(&w); !bytes.Equal(got, want) {
		b.Fatalf("the baseline does not produce the same bytes:\n%s\n%s", got, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stdjson.Marshal(&w); err != nil {
			b.Fatal(err)
		}
	}
}

func mustDecode(b *testing.B, body []byte) callback.Event {
	ev, err := callback.Decode(body)
	if err != nil {
		b.Fatal(err)
	}
	return ev
}

func BenchmarkEncodeQueryDisconnect(b *testing.B) {
	ev, err := callback.Decode(busyExample(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := callback.EncodeQuery(ev); err != nil {
			b.Fatal(err)
		}
	}
}
