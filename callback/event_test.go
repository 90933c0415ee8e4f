package callback_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/callback"
)

func decode(t *testing.T, body string) callback.Event {
	t.Helper()
	ev, err := callback.Decode([]byte(body))
	if err != nil {
		t.Fatalf("Decode(%s): %v", body, err)
	}
	return ev
}

func encode(t *testing.T, ev callback.Event) string {
	t.Helper()
	b, err := callback.Encode(ev)
	if err != nil {
		t.Fatalf("Encode(%T): %v", ev, err)
	}
	return string(b)
}

func TestTagAbsentDiffersFromEmpty(t *testing.T) {
	none := decode(t, `{"eventType":"answer"}`).(*callback.Answer)
	null := decode(t, `{"eventType":"answer","tag":null}`).(*callback.Answer)
	empty := decode(t, `{"eventType":"answer","tag":""}`).(*callback.Answer)
	set := decode(t, `{"eventType":"answer","tag":"vip"}`).(*callback.Answer)
	if none.Tag != nil || null.Tag != nil {
		t.Errorf("absent or null tag decoded as %v / %v, want nil", none.Tag, null.Tag)
	}
	if empty.Tag == nil || *empty.Tag != "" {
		t.Errorf(`"tag":"" decoded as %v, want a pointer to ""`, empty.Tag)
	}
	if set.Tag == nil || *set.Tag != "vip" {
		t.Errorf(`"tag":"vip" decoded as %v`, set.Tag)
	}
	if got := encode(t, none); strings.Contains(got, "tag") {
		t.Errorf("absent tag re-encoded: %s", got)
	}
	if got := encode(t, empty); !strings.Contains(got, `"tag":""`) {
		t.Errorf("empty tag lost on re-encoding: %s", got)
	}
}

func TestErrorFieldsAbsentUnlessSet(t *testing.T) {
	d := &callback.Disconnect{}
	d.Cause = callback.CauseHangup
	got := encode(t, d)
	if got != `{"eventType":"disconnect","cause":"hangup"}` {
		t.Errorf("minimal disconnect = %s", got)
	}
	msg := "Callee is busy"
	d.ErrorMessage = &msg
	if got := encode(t, d); !strings.Contains(got, `"errorMessage":"Callee is busy"`) {
		t.Errorf("errorMessage not encoded: %s", got)
	}
}

func TestGatherDigitsAlwaysEncoded(t *testing.T) {
	got := encode(t, &callback.Gather{})
	if got != `{"eventType":"gather","digits":"","terminatingDigit":""}` {
		t.Errorf("empty gather = %s, want digits and terminatingDigit present and empty", got)
	}
}

func TestUnknownCauseSurvivesRoundTrip(t *testing.T) {
	in := `{"eventType":"disconnect","cause":"solar-flare"}`
	d := decode(t, in).(*callback.Disconnect)
	if d.Cause != "solar-flare" || d.Cause.Known() {
		t.Errorf("Cause = %q, Known = %v", d.Cause, d.Cause.Known())
	}
	if got := encode(t, d); got != in {
		t.Errorf("re-encoded %s, want %s", got, in)
	}
	if !callback.CauseInvalidBXML.Known() || !callback.Outbound.Known() || callback.Direction("sideways").Known() {
		t.Error("Known is wrong for a documented value")
	}
}

func TestUnknownEventKeepsEveryField(t *testing.T) {
	in := `{"eventType":"quantumEntangled","eventTime":"2026-01-02T03:04:05.678Z","callId":"c-1","depth":{"a":[1,2.5,null,true]},"big":12345678901234567890}`
	ev, err := callback.Decode([]byte(in))
	if !errors.Is(err, callback.ErrUnknownEventType) {
		t.Fatalf("err = %v, want ErrUnknownEventType", err)
	}
	var fe *callback.FieldError
	if !errors.As(err, &fe) || fe.Field != "eventType" || !strings.Contains(err.Error(), `unknown eventType "quantumEntangled"`) {
		t.Errorf("error %v does not name the field and value", err)
	}
	u, ok := ev.(*callback.Unknown)
	if !ok {
		t.Fatalf("got %T, want *Unknown", ev)
	}
	if u.Type() != "quantumEntangled" || string(u.Fields["callId"]) != `"c-1"` || string(u.Fields["big"]) != "12345678901234567890" {
		t.Errorf("Unknown = %+v", u)
	}
	if u.Type().Known() {
		t.Error("an unknown type reports Known")
	}
	out := encode(t, u)
	if !jsonEqual(t, out, in) {
		t.Errorf("re-encoded %s, want %s", out, in)
	}
}

func TestMissingEventType(t *testing.T) {
	for _, in := range []string{`{"callId":"c-1"}`, `{"eventType":null,"callId":"c-1"}`, `{"eventType":"","callId":"c-1"}`} {
		ev, err := callback.Decode([]byte(in))
		if !errors.Is(err, callback.ErrMissingEventType) {
			t.Errorf("%s: err = %v, want ErrMissingEventType", in, err)
		}
		if u, ok := ev.(*callback.Unknown); !ok || string(u.Fields["callId"]) != `"c-1"` {
			t.Errorf("%s: event %#v, want the fields kept in an *Unknown", in, ev)
		}
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	cases := []struct {
		body, want string
	}{
		{`{"eventType":"recordComplete","channels":"1"}`, `callback: recordComplete: channels: want an integer, got a string`},
		{`{"eventType":"answer","from":15551112222}`, `callback: answer: from: want a string, got a number`},
		{`{"eventType":"answer","tag":5}`, `callback: answer: tag: want a string, got a number`},
		{`{"eventType":"initiate","diversion":"x"}`, `callback: initiate: diversion: want an object, got a string`},
		{`{"eventType":"initiate","sipHeaders":{"x-a":1}}`, `callback: initiate: sipHeaders.x-a: want a string, got a number`},
		{`{"eventType":"mediaStreamStarted","mediaStream":{"tracks":"inbound"}}`, `callback: mediaStreamStarted: mediaStream.tracks: want an array, got a string`},
		{`{"eventType":"answer","machineDetectionResult":7}`, `callback: answer: machineDetectionResult: want an object or a string, got a number`},
		{`{"eventType":7}`, `callback: eventType: want a string, got a number`},
		{`{"eventType":"disconnect","cause":"busy","cause":"hangup"}`, `callback: disconnect: cause: malformed JSON: duplicate object member name`},
		{"{\"eventType\":\"answer\",\"from\":\"\xff\"}", `callback: answer: from: malformed JSON: invalid UTF-8`},
		{`{"eventType":"answer",`, `callback: answer: malformed JSON: unexpected EOF`},
		{`{"eventType":"answer"} trailing`, `callback: answer: malformed JSON: invalid character 't' after top-level value`},
		{``, `callback: malformed JSON: unexpected EOF`},
		{`[{"eventType":"answer"}]`, `callback: want an object, got an array`},
		{`"answer"`, `callback: want an object, got a string`},
	}
	for _, c := range cases {
		ev, err := callback.Decode([]byte(c.body))
		if err == nil {
			t.Errorf("Decode(%q) succeeded with %T", c.body, ev)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Decode(%q)\n error %q\n  want %q…", c.body, err, c.want)
		}
		var fe *callback.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("Decode(%q): %T is not a *FieldError", c.body, err)
		}
		if ev != nil {
			t.Errorf("Decode(%q) returned an event with its error", c.body)
		}
	}
}

func TestMalformedErrorsCarryOffset(t *testing.T) {
	_, err := callback.Decode([]byte(`{"eventType":"answer", oops}`))
	var fe *callback.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, callback.ErrMalformed) || fe.Offset != 23 || !strings.Contains(err.Error(), "(at byte 23)") {
		t.Errorf("err = %v (offset %d), want ErrMalformed at byte 23", err, fe.Offset)
	}
}

func TestDecodeRefusesHugeBodies(t *testing.T) {
	body := append([]byte(`{"eventType":"answer","tag":"`), bytes.Repeat([]byte("a"), callback.MaxBodySize)...)
	body = append(body, `"}`...)
	_, err := callback.Decode(body)
	if !errors.Is(err, callback.ErrTooLarge) || !strings.Contains(err.Error(), "limit 1048576") {
		t.Errorf("err = %v, want ErrTooLarge naming the limit", err)
	}
}

func TestDeepNestingIsAnErrorNotACrash(t *testing.T) {
	body := `{"eventType":"x","a":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
	_, err := callback.Decode([]byte(body))
	if err == nil || !strings.Contains(err.Error(), "malformed JSON") {
		t.Errorf("err = %v, want a malformed-JSON error for excessive depth", err)
	}
}

func TestRecordingCompleteAlias(t *testing.T) {
	in := `{"eventType":"recordingComplete","recordingId":"r-1"}`
	ev := decode(t, in)
	rc, ok := ev.(*callback.RecordComplete)
	if !ok {
		t.Fatalf("got %T, want *RecordComplete", ev)
	}
	if rc.Type() != callback.EventRecordComplete || rc.EventType != callback.EventRecordingComplete {
		t.Errorf("Type() = %q, header %q", rc.Type(), rc.EventType)
	}
	if got := encode(t, rc); got != in {
		t.Errorf("re-encoded %s, want the alias kept: %s", got, in)
	}
	if got := encode(t, &callback.RecordComplete{}); got != `{"eventType":"recordComplete"}` {
		t.Errorf("a new RecordComplete encodes as %s, want recordComplete", got)
	}
}

func TestRealTimeTranscriptionAliases(t *testing.T) {
	for _, in := range []string{
		`{"eventType":"realTimeTranscriptionStopped","transcription":{"id":"t-1"}}`,
		`{"eventType":"realtimeTranscriptionStopped","realtimeTranscription":{"id":"t-1"}}`,
		`{"eventType":"realTimeTranscriptionStopped","realTimeTranscription":{"id":"t-1"}}`,
	} {
		ev := decode(t, in)
		s, ok := ev.(*callback.RealTimeTranscriptionStopped)
		if !ok || s.RealTimeTranscription == nil || s.RealTimeTranscription.ID != "t-1" {
			t.Errorf("%s decoded to %#v", in, ev)
			continue
		}
		if got := encode(t, s); !strings.Contains(got, `"realTimeTranscription":{"id":"t-1"}`) {
			t.Errorf("%s re-encoded as %s", in, got)
		}
	}
}

func TestMachineDetectionResultForms(t *testing.T) {
	for _, in := range []string{
		`{"eventType":"machineDetectionComplete","machineDetectionResult":"human"}`,
		`{"eventType":"machineDetectionComplete","machineDetectionResult":{"value":"human","duration":"PT4.9891287S"}}`,
	} {
		m := decode(t, in).(*callback.MachineDetectionComplete)
		if m.MachineDetectionResult == nil || m.MachineDetectionResult.Value != callback.Human {
			t.Errorf("%s: result %+v", in, m.MachineDetectionResult)
		}
	}
}

func TestEventTypeFoundByMemberNotByText(t *testing.T) {
	// The first "eventType" in the text is nested; the event is a disconnect.
	ev := decode(t, `{"note":"\"eventType\":\"gather\"","nested":{"eventType":"answer"},"eventType":"disconnect","cause":"hangup"}`)
	if d, ok := ev.(*callback.Disconnect); !ok || d.Cause != callback.CauseHangup {
		t.Errorf("decoded %#v, want a hangup disconnect", ev)
	}
}

func TestUnlistedMembersOfKnownEventsAreIgnored(t *testing.T) {
	ev := decode(t, `{"eventType":"answer","callerDisplayName":"Jo","privacy":true,"callId":"c-1"}`)
	if a := ev.(*callback.Answer); a.CallID != "c-1" {
		t.Errorf("CallID = %q", a.CallID)
	}
}

func TestEncodeFillsAndChecksEventType(t *testing.T) {
	got := encode(t, &callback.Disconnect{Call: callback.Call{Leg: callback.Leg{CallID: "c-1"}}})
	if !strings.HasPrefix(got, `{"eventType":"disconnect","callId":"c-1"`) {
		t.Errorf("Encode = %s, want eventType filled in first", got)
	}
	bad := &callback.Disconnect{}
	bad.EventType = callback.EventAnswer
	_, err := callback.Encode(bad)
	if err == nil || !strings.Contains(err.Error(), `"answer" does not name a *callback.Disconnect`) {
		t.Errorf("mismatched eventType: %v", err)
	}
	if _, err := callback.Encode(nil); err == nil {
		t.Error("Encode(nil) succeeded")
	}
	var nilDisconnect *callback.Disconnect
	if _, err := callback.Encode(nilDisconnect); err == nil {
		t.Error("Encode of a nil *Disconnect succeeded")
	}
	if _, err := callback.Encode(&callback.Unknown{}); !errors.Is(err, callback.ErrMissingEventType) {
		t.Errorf("Encode of an Unknown with no eventType: %v", err)
	}
}

func TestSyncEvents(t *testing.T) {
	sync := []callback.EventType{callback.EventAnswer, callback.EventInitiate, callback.EventGather,
		callback.EventRedirect, callback.EventRecordComplete, callback.EventRecordingComplete,
		callback.EventTransferAnswer, callback.EventTransferComplete, callback.EventBridgeComplete,
		callback.EventBridgeTargetComplete, callback.EventConferenceCreated, callback.EventConferenceMemberJoin,
		callback.EventConferenceMemberExit, callback.EventConferenceRedirect}
	async := []callback.EventType{callback.EventDisconnect, callback.EventDTMF, callback.EventRecordingAvailable,
		callback.EventTranscriptionAvailable, callback.EventTransferDisconnect, callback.EventConferenceCompleted,
		callback.EventMachineDetectionComplete, callback.EventConferenceRecordingAvailable,
		callback.EventMediaStreamStarted, callback.EventRealTimeTranscriptionAvailable, "somethingNew"}
	for _, e := range sync {
		if !e.Sync() {
			t.Errorf("%s.Sync() = false", e)
		}
	}
	for _, e := range async {
		if e.Sync() {
			t.Errorf("%s.Sync() = true", e)
		}
	}
}

func TestCallEvents(t *testing.T) {
	for _, c := range allEvents() {
		_, isCall := c.ev.(callback.CallEvent)
		_, isConf := map[callback.EventType]bool{
			callback.EventConferenceCreated: true, callback.EventConferenceRedirect: true,
			callback.EventConferenceMemberJoin: true, callback.EventConferenceMemberExit: true,
			callback.EventConferenceCompleted: true, callback.EventConferenceRecordingAvailable: true,
		}[c.ev.Type()]
		if isCall == isConf {
			t.Errorf("%T: CallEvent = %v", c.ev, isCall)
		}
	}
	d := decode(t, `{"eventType":"disconnect","callId":"c-9"}`).(callback.CallEvent)
	if d.CallLeg().CallID != "c-9" {
		t.Errorf("CallLeg().CallID = %q", d.CallLeg().CallID)
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	return mustJSONString(jsonValue(t, []byte(a))) == mustJSONString(jsonValue(t, []byte(b)))
}

func mustJSONString(v any) string { return string(mustJSON(v)) }
