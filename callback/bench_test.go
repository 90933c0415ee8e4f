package callback_test

import (
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

func BenchmarkEncodeDisconnectStdlib(b *testing.B) {
	var d stdlibDisconnect
	if err := stdjson.Unmarshal(busyExample(b), &d); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := stdjson.Marshal(&d); err != nil {
			b.Fatal(err)
		}
	}
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
