package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/webhook"
)

// post sends body to h and returns the recorded reply.
func post(h http.Handler, body string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/voice", strings.NewReader(body)))
	return w
}

const callID = "c-15ac29a2-1331029c-2cb0-4a07-b215-b22865662d85"

func TestEveryEventReachesItsFunction(t *testing.T) {
	h := webhook.New()
	var got []string
	say := func(name string) *bxml.Response {
		got = append(got, name)
		return bxml.NewResponse(&bxml.SpeakSentence{Text: name})
	}
	note := func(name string) error { got = append(got, name); return nil }
	h.OnAnswer(func(_ context.Context, ev *callback.Answer) (*bxml.Response, error) {
		return say("answer " + ev.CallID), nil
	})
	h.OnInitiate(func(context.Context, *callback.Initiate) (*bxml.Response, error) { return say("initiate"), nil })
	h.OnGather(func(context.Context, *callback.Gather) (*bxml.Response, error) { return say("gather"), nil })
	h.OnRedirect(func(context.Context, *callback.Redirect) (*bxml.Response, error) { return say("redirect"), nil })
	h.OnRecordComplete(func(context.Context, *callback.RecordComplete) (*bxml.Response, error) {
		return say("recordComplete"), nil
	})
	h.OnTransferAnswer(func(context.Context, *callback.TransferAnswer) (*bxml.Response, error) {
		return say("transferAnswer"), nil
	})
	h.OnTransferComplete(func(context.Context, *callback.TransferComplete) (*bxml.Response, error) {
		return say("transferComplete"), nil
	})
	h.OnBridgeComplete(func(context.Context, *callback.BridgeComplete) (*bxml.Response, error) {
		return say("bridgeComplete"), nil
	})
	h.OnBridgeTargetComplete(func(context.Context, *callback.BridgeTargetComplete) (*bxml.Response, error) {
		return say("bridgeTargetComplete"), nil
	})
	h.OnConferenceCreated(func(context.Context, *callback.ConferenceCreated) (*bxml.Response, error) {
		return say("conferenceCreated"), nil
	})
	h.OnConferenceMemberJoin(func(context.Context, *callback.ConferenceMemberJoin) (*bxml.Response, error) {
		return say("conferenceMemberJoin"), nil
	})
	h.OnConferenceMemberExit(func(context.Context, *callback.ConferenceMemberExit) (*bxml.Response, error) {
		return say("conferenceMemberExit"), nil
	})
	h.OnConferenceRedirect(func(context.Context, *callback.ConferenceRedirect) (*bxml.Response, error) {
		return say("conferenceRedirect"), nil
	})
	h.OnDisconnect(func(_ context.Context, ev *callback.Disconnect) error { return note("disconnect " + string(ev.Cause)) })
	h.OnDTMF(func(context.Context, *callback.DTMF) error { return note("dtmf") })
	h.OnMachineDetectionComplete(func(context.Context, *callback.MachineDetectionComplete) error {
		return note("machineDetectionComplete")
	})
	h.OnRecordingAvailable(func(context.Context, *callback.RecordingAvailable) error { return note("recordingAvailable") })
	h.OnTranscriptionAvailable(func(context.Context, *callback.TranscriptionAvailable) error { return note("transcriptionAvailable") })
	h.OnTransferDisconnect(func(context.Context, *callback.TransferDisconnect) error { return note("transferDisconnect") })
	h.OnConferenceCompleted(func(context.Context, *callback.ConferenceCompleted) error { return note("conferenceCompleted") })
	h.OnConferenceRecordingAvailable(func(context.Context, *callback.ConferenceRecordingAvailable) error {
		return note("conferenceRecordingAvailable")
	})
	h.OnMediaStreamStarted(func(context.Context, *callback.MediaStreamStarted) error { return note("mediaStreamStarted") })
	h.OnMediaStreamRejected(func(_ context.Context, ev *callback.MediaStreamRejected) error {
		return note("mediaStreamRejected " + string(ev.Cause))
	})
	h.OnMediaStreamStopped(func(context.Context, *callback.MediaStreamStopped) error { return note("mediaStreamStopped") })
	webhook.Notify(h, func(context.Context, *callback.RealTimeTranscriptionStarted) error {
		return note("realTimeTranscriptionStarted")
	})

	for _, c := range []struct{ body, want string }{
		{`{"eventType":"answer","callId":"` + callID + `"}`, "answer " + callID},
		{`{"eventType":"initiate"}`, "initiate"},
		{`{"eventType":"gather"}`, "gather"},
		{`{"eventType":"redirect"}`, "redirect"},
		{`{"eventType":"recordComplete"}`, "recordComplete"},
		{`{"eventType":"recordingComplete"}`, "recordComplete"}, // the spec's spelling
		{`{"eventType":"transferAnswer"}`, "transferAnswer"},
		{`{"eventType":"transferComplete"}`, "transferComplete"},
		{`{"eventType":"bridgeComplete"}`, "bridgeComplete"},
		{`{"eventType":"bridgeTargetComplete"}`, "bridgeTargetComplete"},
		{`{"eventType":"conferenceCreated"}`, "conferenceCreated"},
		{`{"eventType":"conferenceMemberJoin"}`, "conferenceMemberJoin"},
		{`{"eventType":"conferenceMemberExit"}`, "conferenceMemberExit"},
		{`{"eventType":"conferenceRedirect"}`, "conferenceRedirect"},
		{`{"eventType":"disconnect","cause":"busy"}`, "disconnect busy"},
		{`{"eventType":"dtmf"}`, "dtmf"},
		{`{"eventType":"machineDetectionComplete"}`, "machineDetectionComplete"},
		{`{"eventType":"recordingAvailable"}`, "recordingAvailable"},
		{`{"eventType":"transcriptionAvailable"}`, "transcriptionAvailable"},
		{`{"eventType":"transferDisconnect"}`, "transferDisconnect"},
		{`{"eventType":"conferenceCompleted"}`, "conferenceCompleted"},
		{`{"eventType":"conferenceRecordingAvailable"}`, "conferenceRecordingAvailable"},
		{`{"eventType":"mediaStreamStarted"}`, "mediaStreamStarted"},
		{`{"eventType":"mediaStreamRejected","cause":"duplicate"}`, "mediaStreamRejected duplicate"},
		{`{"eventType":"mediaStreamStopped"}`, "mediaStreamStopped"},
		{`{"eventType":"realTimeTranscriptionStarted"}`, "realTimeTranscriptionStarted"},
	} {
		got = nil
		w := post(h, c.body)
		if len(got) != 1 || got[0] != c.want {
			t.Errorf("%s ran %v, want %q", c.body, got, c.want)
			continue
		}
		ev, _ := callback.Decode([]byte(c.body))
		if ev.Type().Sync() {
			if w.Code != 200 || w.Header().Get("Content-Type") != "application/xml" ||
				!strings.Contains(w.Body.String(), "<SpeakSentence>"+c.want+"</SpeakSentence>") {
				t.Errorf("%s: %d %s %q", c.body, w.Code, w.Header().Get("Content-Type"), w.Body)
			}
		} else if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
			t.Errorf("%s: %d %q, want 204 and no body", c.body, w.Code, w.Body)
		}
	}
}

func TestQueryForm(t *testing.T) {
	h := webhook.New()
	var digits string
	h.OnGather(func(_ context.Context, ev *callback.Gather) (*bxml.Response, error) {
		digits = ev.Digits
		return nil, nil
	})
	q := url.Values{"eventType": {"gather"}, "digits": {"42"}, "callId": {callID}}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/voice?"+q.Encode(), nil))
	// No BXML from the function: an empty response, and the call hangs up.
	if digits != "42" || w.Code != 200 || !strings.HasSuffix(w.Body.String(), "<Response/>") {
		t.Errorf("GET gather: digits %q, %d %q", digits, w.Code, w.Body)
	}
}

func TestRefusals(t *testing.T) {
	h := webhook.New(webhook.WithBasicAuth("app", "s3cret"), webhook.WithMaxBody(100))
	h.OnAnswer(func(context.Context, *callback.Answer) (*bxml.Response, error) {
		return nil, errors.New("database down")
	})
	send := func(method, user, pass, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/voice", strings.NewReader(body))
		if user != "" {
			r.SetBasicAuth(user, pass)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for name, c := range map[string]struct {
		w      *httptest.ResponseRecorder
		status int
		says   string
	}{
		"no credentials":     {send("POST", "", "", `{"eventType":"disconnect"}`), 401, "credentials"},
		"a wrong password":   {send("POST", "app", "guess", `{"eventType":"disconnect"}`), 401, "credentials"},
		"not JSON":           {send("POST", "app", "s3cret", `<xml/>`), 400, "not a voice callback"},
		"no eventType":       {send("POST", "app", "s3cret", `{"callId":"x"}`), 400, "not a voice callback"},
		"too large":          {send("POST", "app", "s3cret", `{"eventType":"disconnect","tag":"`+strings.Repeat("x", 200)+`"}`), 413, "larger than 100 bytes"},
		"PUT":                {send("PUT", "app", "s3cret", `{"eventType":"disconnect"}`), 405, "POST or GET"},
		"the function fails": {send("POST", "app", "s3cret", `{"eventType":"answer"}`), 500, "failed to handle answer"},
		"nothing registered": {send("POST", "app", "s3cret", `{"eventType":"disconnect"}`), 204, ""},
		"the right password": {send("POST", "app", "s3cret", `{"eventType":"dtmf","digit":"1"}`), 204, ""},
	} {
		if c.w.Code != c.status || !strings.Contains(c.w.Body.String(), c.says) {
			t.Errorf("%s: %d %q, want %d saying %q", name, c.w.Code, c.w.Body, c.status, c.says)
		}
		if c.status == 401 && c.w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", name)
		}
	}
}

func TestOnOther(t *testing.T) {
	h := webhook.New()
	var got callback.Event
	h.OnOther(func(_ context.Context, ev callback.Event) (*bxml.Response, error) {
		got = ev
		return bxml.NewResponse(&bxml.Hangup{}), nil
	})
	if w := post(h, `{"eventType":"futureEvent","x":1}`); w.Code != 204 {
		t.Errorf("an unknown event: %d %q", w.Code, w.Body)
	}
	if u, ok := got.(*callback.Unknown); !ok || u.Type() != "futureEvent" {
		t.Errorf("OnOther got %#v", got)
	}
	if w := post(h, `{"eventType":"answer"}`); !strings.Contains(w.Body.String(), "<Hangup") {
		t.Errorf("answer without OnAnswer goes to OnOther: %q", w.Body)
	}
}
