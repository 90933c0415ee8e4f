package voicetest_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/voicetest"
)

// replies is an app that answers each path with fixed BXML (204 for a path
// it does not know) and serves a 2-second WAV at /hold.wav.
func replies(bxmls map[string]string) http.Handler {
	var wav bytes.Buffer
	audio.WriteWAV(&wav, 2*time.Second, nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/hold.wav" {
			w.Header().Set("Content-Type", "audio/wav")
			w.Write(wav.Bytes())
			return
		}
		doc, ok := bxmls[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, doc)
	})
}

func TestPlaceCallShowsWebhooksVerbsAndCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := voicetest.New(t, replies(map[string]string{
			"/answer": `<Response><SpeakSentence>Hello there.</SpeakSentence><PlayAudio>/hold.wav</PlayAudio>` +
				`<Pause duration="10"/><Hangup/></Response>`,
		}), voicetest.Options{})
		if !strings.HasPrefix(v.URL(), "http://") || !strings.HasPrefix(v.AppURL(), "http://") {
			t.Errorf("URL %q, AppURL %q", v.URL(), v.AppURL())
		}
		start := time.Now()
		call := v.PlaceCall(voicetest.CallRequest{To: "+15551234567", DisconnectURL: "/disconnect", Tag: "t-1"})
		if call.Ended() || call.Cause() != "" || call.Direction != "outbound" || call.To != "+15551234567" {
			t.Errorf("new call: ended %v, cause %q, %s to %s", call.Ended(), call.Cause(), call.Direction, call.To)
		}
		v.Run()
		if took := time.Since(start); took != 1*time.Second+800*time.Millisecond+2*time.Second+10*time.Second {
			// One second of ringing, "Hello there." (12 characters at 15 a
			// second), the 2 s file, the pause.
			t.Errorf("the call took %v of clock time", took)
		}
		call.WantEvents("answer", "disconnect")
		call.WantCause("hangup")
		call.WantSpoken("Hello there.")
		if got := call.Played(); !slices.Equal(got, []string{v.AppURL() + "/hold.wav"}) {
			t.Errorf("played %q", got)
		}
		hooks := call.Webhooks()
		answer, ok := hooks[0].Event.(*callback.Answer)
		if !ok || answer.Tag == nil || *answer.Tag != "t-1" || hooks[0].Status != 200 || !strings.Contains(hooks[0].Reply, "<Pause") ||
			hooks[0].Method != "POST" || hooks[0].Path != "/answer" || hooks[0].URL != v.AppURL()+"/answer" || hooks[0].CallID != call.ID {
			t.Errorf("answer webhook %+v", hooks[0])
		}
		if d := hooks[1].Event.(*callback.Disconnect); d.Cause != callback.CauseHangup || hooks[1].Status != 204 || !bytes.Contains(hooks[1].Body, []byte(`"eventType":"disconnect"`)) {
			t.Errorf("disconnect webhook %+v", hooks[1])
		}
		var names []string
		for _, vb := range call.Verbs() {
			names = append(names, vb.Name)
		}
		if want := []string{"SpeakSentence", "PlayAudio", "Pause", "Hangup"}; !slices.Equal(names, want) {
			t.Errorf("verbs %q, want %q", names, want)
		}
		if vs := call.Verbs(); len(vs) != 4 {
			t.Errorf("verbs %+v", vs)
		} else if p, ok := vs[2].Verb.(*bxml.Pause); !ok || p.Duration != 10*time.Second {
			t.Errorf("pause verb %+v", vs[2])
		}
		if all := v.Webhooks(); len(all) != 2 || all[0] != hooks[0] {
			t.Errorf("env webhooks %v", all)
		}
		if calls := v.Calls(); len(calls) != 1 || calls[0] != call {
			t.Errorf("calls %v", calls)
		}
	})
}

func TestTheFarEndPressesSaysAndHangsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := voicetest.New(t, replies(map[string]string{
			"/answer": `<Response><Gather gatherUrl="/digits" terminatingDigits="#" firstDigitTimeout="10"/></Response>`,
			"/digits": `<Response><Record recordCompleteUrl="/recorded" maxDuration="120"/></Response>`,
		}), voicetest.Options{})
		call := v.PlaceCall(voicetest.CallRequest{To: "+15551234567"})
		call.WaitFor("answer")
		v.Advance(2 * time.Second)
		call.Press("42#")
		g := call.WaitFor("gather").Event.(*callback.Gather)
		if g.Digits != "42" || g.TerminatingDigit != "#" {
			t.Errorf("gather %+v", g)
		}
		call.Say("Please call me back.")
		v.Advance(5 * time.Second)
		call.HangUp()
		call.Wait()
		call.WantCause("hangup")
		tl := call.Timeline()
		for _, want := range []string{`phone   presses "42#"`, `phone   says "Please call me back."`, "phone   hangs up", `gathered "42", terminator "#"`, "ended: hangup"} {
			if !strings.Contains(tl, want) {
				t.Errorf("timeline lacks %q:\n%s", want, tl)
			}
		}
	})
}

func TestScriptedPhonesAndCauses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := voicetest.New(t, replies(map[string]string{"/answer": `<Response><Hangup/></Response>`}), voicetest.Options{
			Phones: map[string]voicetest.Phone{
				"+15551110001": {Outcome: voicetest.Busy},
				"+15551110002": {Outcome: voicetest.Decline, Ring: 3 * time.Second},
				"+15551110003": {Outcome: voicetest.NoAnswer},
				"+15551110004": {},
				"+15551110005": {Outcome: voicetest.Fail},
				"+15551110006": {Outcome: voicetest.Unexplained},
			}})
		want := map[string]string{"+15551110001": "busy", "+15551110002": "rejected", "+15551110003": "timeout", "+15551110004": "hangup",
			"+15551110005": "error", "+15551110006": "unknown"}
		calls := map[string]*voicetest.Call{}
		for number := range want {
			calls[number] = v.PlaceCall(voicetest.CallRequest{To: number, CallTimeout: 20 * time.Second})
		}
		v.Run()
		for number, cause := range want {
			calls[number].WantCause(cause)
		}
		calls["+15551110001"].WantEvents() // no answer, no disconnect asked for
		calls["+15551110004"].WantEvents("answer")
	})
}

func TestInboundReachesTheInitiateAndStatusURLs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := voicetest.New(t, replies(map[string]string{
			"/voice/initiate": `<Response><SpeakSentence>Thanks for calling.</SpeakSentence></Response>`,
		}), voicetest.Options{InitiateURL: "/voice/initiate", StatusURL: "/voice/status"})
		call := v.Inbound("+15557770000", "+15550001000")
		v.Run()
		call.WantEvents("initiate", "disconnect")
		call.WantCause("hangup")
		if hooks := call.Webhooks(); hooks[1].Path != "/voice/status" || call.Direction != "inbound" || call.From != "+15557770000" {
			t.Errorf("status webhook at %s, call %s from %s", hooks[1].Path, call.Direction, call.From)
		}
	})
}

func TestLegsAndDialled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := voicetest.New(t, replies(map[string]string{
			"/answer": `<Response><Transfer transferCompleteUrl="/done"><PhoneNumber transferAnswerUrl="/agent" transferDisconnectUrl="/agent-gone">+15550002000</PhoneNumber></Transfer></Response>`,
			"/agent":  `<Response><SpeakSentence>A customer for you.</SpeakSentence></Response>`,
		}), voicetest.Options{Phones: map[string]voicetest.Phone{"+15550002000": {HangupAfter: 20 * time.Second}}})
		call := v.PlaceCall(voicetest.CallRequest{To: "+15551234567"})
		v.Run()
		if got := call.Dialled(); !slices.Equal(got, []string{"+15550002000"}) {
			t.Errorf("dialled %q", got)
		}
		legs := call.Legs()
		if len(legs) != 1 {
			t.Fatalf("legs %v", legs)
		}
		legs[0].WantEvents("transferAnswer", "transferDisconnect")
		legs[0].WantSpoken("A customer for you.")
		legs[0].WantCause("hangup")
		if legs[0].To != "+15550002000" || len(v.Calls()) != 2 {
			t.Errorf("leg to %s; %d calls", legs[0].To, len(v.Calls()))
		}
		call.WantEvents("answer", "transferComplete")
	})
}

// Extra's URL fields, even nested, are paths on the app too; SSML is
// spoken as its text.
func TestExtraFieldsAndSSML(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := voicetest.New(t, replies(map[string]string{
			"/answer": `<Response><SpeakSentence>Hello <emphasis>there</emphasis>.</SpeakSentence><Pause duration="10"/></Response>`,
		}), voicetest.Options{})
		call := v.PlaceCall(voicetest.CallRequest{To: "+15550000800", Extra: map[string]any{
			"machineDetection": map[string]any{"mode": "async", "callbackUrl": "/amd"}}})
		md := call.WaitFor("machineDetectionComplete")
		if ev := md.Event.(*callback.MachineDetectionComplete); md.Path != "/amd" || ev.MachineDetectionResult == nil ||
			ev.MachineDetectionResult.Value != callback.AnsweringMachine {
			t.Errorf("machine detection at %s: %s", md.Path, md.Body)
		}
		v.Run()
		call.WantSpoken("Hello there.")
	})
}

// An app that calls the API during a call reaches voicehook through
// Client.
func TestClientReachesTheAPI(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v := voicetest.New(t, replies(map[string]string{
			"/answer":   `<Response><Pause duration="60"/></Response>`,
			"/redirect": `<Response><SpeakSentence>Moved.</SpeakSentence></Response>`,
		}), voicetest.Options{})
		call := v.PlaceCall(voicetest.CallRequest{To: "+15551234567"})
		call.WaitFor("answer")
		req, _ := http.NewRequest("POST", v.URL()+"/api/v2/accounts/9900000/calls/"+call.ID,
			strings.NewReader(`{"redirectUrl":"`+v.AppURL()+`/redirect"}`))
		req.SetBasicAuth("dev", "dev")
		req.Header.Set("Content-Type", "application/json")
		resp, err := v.Client().Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("update call: %v %v", resp, err)
		}
		v.Run()
		call.WantEvents("answer", "redirect")
		call.WantSpoken("Moved.")
	})
}

// A reply slower than the callback timeout fails the call as on
// Bandwidth, in no time.
func TestSlowAppTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(20 * time.Second)
			io.WriteString(w, `<Response/>`)
		})
		v := voicetest.New(t, slow, voicetest.Options{})
		call := v.PlaceCall(voicetest.CallRequest{To: "+15551234567", Extra: map[string]any{"callbackTimeout": 3}})
		v.Run()
		call.WantCause("callback-error")
	})
}

// fakeT stands in for a test, to check how voicetest fails one.
type fakeT struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	f.mu.Lock()
	f.fatal = true
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fakeT) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fakeT) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errors) > 0
}

// run runs body as a test of its own and returns what it reported.
func (f *fakeT) run(body func()) string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		body()
	}()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	out := strings.Join(f.errors, "\n")
	f.errors = nil
	return out
}

func TestFailuresNameWhatWentWrong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeT{TB: t}
		v := voicetest.New(f, replies(map[string]string{"/answer": `<Response><SpeakSentence>Hi.</SpeakSentence><Pause duration="3600"/></Response>`}),
			voicetest.Options{Limit: time.Minute})
		call := v.PlaceCall(voicetest.CallRequest{To: "+15551234567"})
		call.WaitFor("answer")
		v.Advance(time.Second)
		for _, tc := range []struct {
			do   func()
			want string
		}{
			{func() { call.WantEvents("answer", "disconnect") }, `webhooks ["answer"], want ["answer" "disconnect"]`},
			{func() { call.WantCause("hangup") }, "still up, want it ended with hangup"},
			{func() { call.WantSpoken("Bye.") }, `spoke ["Hi."], want ["Bye."]`},
			{func() { v.Run() }, "Run: calls still up after 1m0s:\ncall " + call.ID},
			{func() { call.Wait() }, "still up after 1m0s"},
			{func() { call.WaitFor("gather") }, "waiting for webhook gather #1: none after 1m0s"},
			{func() { v.PlaceCall(voicetest.CallRequest{To: "12"}) }, `PlaceCall(+15550001000 → 12): 400`},
			{func() { v.Inbound("+15557770000", "+15559999999") }, "No application answers +15559999999"},
		} {
			if got := f.run(tc.do); !strings.Contains(got, tc.want) {
				t.Errorf("reported %q, want %q", got, tc.want)
			}
		}
		call.HangUp()
		call.Wait()
		for _, tc := range []struct {
			do   func()
			want string
		}{
			{func() { call.WantCause("busy") }, "ended with hangup, want busy"},
			{func() { call.Press("1") }, "Press on call " + call.ID + ": 404"},
			{func() { call.WaitFor("gather") }, "the call ended (hangup) without one"},
		} {
			if got := f.run(tc.do); !strings.Contains(got, tc.want) {
				t.Errorf("reported %q, want %q", got, tc.want)
			}
		}
	})
}

func TestNewNeedsABubble(t *testing.T) {
	f := &fakeT{TB: t}
	if got := f.run(func() { voicetest.New(f, http.NotFoundHandler(), voicetest.Options{}) }); !strings.Contains(got, "wrap the test in synctest.Test") {
		t.Errorf("New outside a bubble reported %q", got)
	}
	if got := f.run(func() { voicetest.Connect(f, "http://127.0.0.1:1", http.NotFoundHandler(), voicetest.Options{}) }); !strings.Contains(got, "no voicehook at http://127.0.0.1:1") {
		t.Errorf("Connect to nothing reported %q", got)
	}
}

// The README shows the example and its test as they are in
// example_test.go.
func TestReadmeShowsTheExample(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(src), "// readme:begin\n")
	example, _, _ := strings.Cut(rest, "// readme:end")
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), strings.TrimSpace(example)) {
		t.Errorf("README.md's \"Testing a Go voice app\" differs from example_test.go's readme block:\n%s", example)
	}
}
