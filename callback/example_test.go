package callback_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/voicehook/voicehook/callback"
)

// A webhook endpoint that takes every event, by POST or GET, and acts on the
// ones it cares about.
func Example_handler() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var (
			ev  callback.Event
			err error
		)
		if r.Method == http.MethodGet {
			ev, err = callback.DecodeQuery(r.URL.Query())
		} else {
			body, rerr := io.ReadAll(http.MaxBytesReader(w, r.Body, callback.MaxBodySize))
			if rerr != nil {
				http.Error(w, rerr.Error(), http.StatusRequestEntityTooLarge)
				return
			}
			ev, err = callback.Decode(body)
		}
		if errors.Is(err, callback.ErrUnknownEventType) {
			log.Printf("ignoring an event this app does not know: %s", ev.Type())
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		switch ev := ev.(type) {
		case *callback.Disconnect:
			msg := ""
			if ev.ErrorMessage != nil {
				msg = *ev.ErrorMessage
			}
			fmt.Printf("call %s ended: %s (%s) after %v\n", ev.CallID, ev.Cause, msg, ev.EndTime.Sub(ev.StartTime.Time))
		case *callback.Gather:
			fmt.Printf("caller pressed %q\n", ev.Digits)
		}
		w.WriteHeader(http.StatusNoContent)
	})

	// Bandwidth's documented disconnect of a busy call, by POST.
	body := `{"eventType":"disconnect","eventTime":"2019-06-20T15:55:55.533Z","accountId":"55555555",
		"direction":"outbound","callId":"c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
		"startTime":"2019-06-20T15:54:22.234Z","endTime":"2019-06-20T15:55:54.123Z",
		"cause":"busy","errorMessage":"Callee is busy","errorId":"4642074b-7b58-478b-96e4-3a60955c6765"}`
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(body)))
	fmt.Println(rec.Code)

	// A gather, by GET.
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/events?eventType=gather&digits=42%23&terminatingDigit=%23", nil))
	fmt.Println(rec.Code)

	// A body with a wrong type is refused, naming the field.
	rec = httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(`{"eventType":"gather","digits":42}`)))
	fmt.Print(rec.Code, " ", rec.Body.String())

	// Output:
	// call c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d ended: busy (Callee is busy) after 1m31.889s
	// 204
	// caller pressed "42#"
	// 204
	// 400 callback: gather: digits: want a string, got a number
}

func ExampleDecode() {
	ev, err := callback.Decode([]byte(`{"eventType":"answer","callId":"c-1","tag":"campaign-7",
		"answerTime":"2019-06-20T17:54:25.432+02:00"}`))
	if err != nil {
		log.Fatal(err)
	}
	a := ev.(*callback.Answer)
	fmt.Println(a.Type(), a.CallID, *a.Tag, a.AnswerTime)
	// Output: answer c-1 campaign-7 2019-06-20T15:54:25.432Z
}

func ExampleEncode() {
	ev := &callback.Disconnect{
		Call: callback.Call{Leg: callback.Leg{
			CallID:    "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d",
			Direction: callback.Outbound,
			StartTime: callback.TimeOf(time.Date(2019, 6, 20, 15, 54, 22, 234_000_000, time.UTC)),
		}},
		EndTime:         callback.TimeOf(time.Date(2019, 6, 20, 11, 55, 54, 123_456_789, time.FixedZone("EDT", -4*3600))),
		Outcome:         callback.Outcome{Cause: callback.CauseBusy},
		SIPResponseCode: 486,
	}
	body, err := callback.Encode(ev)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(body))
	// Output: {"eventType":"disconnect","direction":"outbound","callId":"c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d","startTime":"2019-06-20T15:54:22.234Z","endTime":"2019-06-20T15:55:54.123Z","cause":"busy","sipResponseCode":486}
}

func ExampleEncodeQuery() {
	ev := &callback.MachineDetectionComplete{
		MachineDetectionResult: &callback.MachineDetectionResult{
			Value:    callback.AnsweringMachine,
			Duration: callback.Duration(4989128700 * time.Nanosecond),
		},
	}
	q, err := callback.EncodeQuery(ev)
	if err != nil {
		log.Fatal(err)
	}
	s, _ := url.QueryUnescape(q.Encode())
	fmt.Println(s)
	// Output: eventType=machineDetectionComplete&machineDetectionResult[duration]=PT4.9891287S&machineDetectionResult[value]=answering-machine
}

func ExampleDuration() {
	d, err := callback.ParseDuration("PT1M52.217S")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(time.Duration(d), callback.Duration(90*time.Second))
	// Output: 1m52.217s PT1M30S
}

func ExampleFieldError() {
	_, err := callback.Decode([]byte(`{"eventType":"recordComplete","channels":"two"}`))
	var fe *callback.FieldError
	if errors.As(err, &fe) {
		fmt.Printf("event %s, field %s: %v\n", fe.Event, fe.Field, fe.Err)
	}
	// Output: event recordComplete, field channels: want an integer, got a string
}

func ExampleValidateE164() {
	fmt.Println(callback.ValidateE164("+15551112222"))
	fmt.Println(callback.ValidateE164("555-1212"))
	// Output:
	// <nil>
	// invalid E.164 number "555-1212": want + and 2 to 15 digits, the first not 0
}
