package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/api"
	"github.com/voicehook/voicehook/internal/config"
	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/phone/sim"
	"github.com/voicehook/voicehook/internal/recordings"
	"github.com/voicehook/voicehook/internal/spec"
	"github.com/voicehook/voicehook/internal/store/sqlite"
)

const (
	base    = "http://voicehook.test/api/v2" // only described: requests go to the handler in process
	account = "9900000"
	appURL  = "https://app.test" // only described: the app is in process, nothing is dialled
)

// app is the customer's app, in process: it answers synchronous webhooks
// with the BXML of their URL and notes the others.
type app struct {
	bxml  map[string]string
	mu    sync.Mutex
	notes []callback.Event
}

func (a *app) Send(_ context.Context, w engine.Webhook) (engine.Reply, error) {
	body, ok := a.bxml[w.Target.URL]
	if !ok {
		return engine.Reply{}, &engine.DeliveryError{Reason: "404 Not Found"}
	}
	return engine.Reply{Body: []byte(body), URL: w.Target.URL}, nil
}

func (a *app) Notify(_ context.Context, w engine.Webhook, done func([]engine.Attempt)) error {
	a.mu.Lock()
	a.notes = append(a.notes, w.Event)
	a.mu.Unlock()
	if done != nil {
		done([]engine.Attempt{{URL: w.Target.URL, Status: 204}})
	}
	return nil
}

// env is the API over an engine with simulated phones, whose
// transcriptions a Keeper keeps in a temporary directory. It must be made
// inside a synctest bubble: calls run on its virtual clock.
type env struct {
	t       *testing.T
	app     *app
	eng     *engine.Engine
	net     *sim.Network
	keeper  *recordings.Keeper
	handler http.Handler
}

func newEnv(t *testing.T, bxml map[string]string) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	keeper, err := recordings.New(t.TempDir(), store)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, app: &app{bxml: bxml}, net: sim.New(engine.RealClock{}, nil), keeper: keeper}
	e.eng, err = engine.New(engine.Config{Clock: engine.RealClock{}, Store: store, Sender: e.app, Network: e.net,
		BaseURL: base, Transcripts: keeper, Recorder: keeper})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.eng.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		store.Close()
	})
	e.handler = api.New(api.Config{Engine: e.eng, Sim: e.net, Accounts: config.Dev(account, "dev", "dev", "", ""), BaseURL: base})
	return e
}

// call places a call to a simulated phone that answers after 1 s, whose
// answer webhook gets answerURL's BXML.
func (e *env) call(answerURL string) string {
	e.t.Helper()
	created, err := e.eng.CreateCall(context.Background(), engine.Call{AccountID: account, ApplicationID: config.DevApplicationID,
		From: "+15551112222", To: "+15553330010", AnswerURL: answerURL})
	if err != nil {
		e.t.Fatal(err)
	}
	return created.CallID
}

// settle lets virtual time run until no call is live (a minute at most).
func (e *env) settle() {
	for i := 0; i < 6000 && e.eng.Live() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	synctest.Wait()
	if n := e.eng.Live(); n > 0 {
		e.t.Fatalf("%d calls still live after a minute", n)
	}
}

// do sends a request to the API with the dev credentials (none when user
// is empty) and returns the response.
func (e *env) do(method, path, user, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if user != "" {
		req.SetBasicAuth(user, "dev")
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// conforms checks a JSON body against a schema of Bandwidth's document.
func conforms(t *testing.T, schema string, body []byte) {
	t.Helper()
	doc := spec.ForTest(t)
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", schema, err, body)
	}
	if err := spec.Validate(spec.Schema(t, doc, schema), v); err != nil {
		t.Errorf("%s does not validate: %v\n%s", schema, err, body)
	}
}

// notFound checks a 404 with Bandwidth's error body.
func notFound(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusNotFound {
		t.Errorf("%s: %d %s, want 404", what, rec.Code, rec.Body)
		return
	}
	conforms(t, "voiceApiError", rec.Body.Bytes())
}

const transcribed = `<Response>
	<StartTranscription name="live" tracks="both" transcriptionEventUrl="/tx"/>
	<SpeakSentence>Welcome to the shop</SpeakSentence>
	<Pause duration="3"/>
	<StopTranscription/>
	<StartTranscription name="quiet" tracks="inbound"/>
	<Hangup/>
</Response>`

// A call's real-time transcriptions, once ended, are listed, read track
// by track and deleted over REST, as Bandwidth's document describes them.
func TestLiveTranscriptionsOverREST(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, map[string]string{
			appURL + "/answer": transcribed,
			appURL + "/hangup": `<Response><Hangup/></Response>`,
		})
		id := e.call(appURL + "/answer")
		other := e.call(appURL + "/hangup")
		time.Sleep(2 * time.Second) // answered at 1 s
		speak := func(text string) {
			if rec := e.do("POST", "/sim/v1/calls/"+id+"/speech", "", fmt.Sprintf(`{"text":%q,"durationSeconds":1}`, text)); rec.Code != http.StatusNoContent {
				t.Fatalf("speech: %d %s", rec.Code, rec.Body)
			}
		}
		speak("I want to cancel")
		time.Sleep(1500 * time.Millisecond)
		speak("my order")
		e.settle()

		calls := "/api/v2/accounts/" + account + "/calls/"
		rec := e.do("GET", calls+id+"/transcriptions", "dev", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("list: %d %s", rec.Code, rec.Body)
		}
		conforms(t, "callTranscriptionMetadataList", rec.Body.Bytes())
		var list []struct{ TranscriptionID, TranscriptionName, TranscriptionURL string }
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].TranscriptionName != "live" || list[1].TranscriptionName != "quiet" {
			t.Fatalf("listed %s, want live then quiet", rec.Body)
		}
		live := list[0].TranscriptionID
		if want := base + "/accounts/" + account + "/calls/" + id + "/transcriptions/" + live; list[0].TranscriptionURL != want {
			t.Errorf("transcriptionUrl %q, want %q", list[0].TranscriptionURL, want)
		}
		// The URL the app was given is the one listed.
		var given string
		for _, ev := range e.app.notes {
			if a, ok := ev.(*callback.RealTimeTranscriptionAvailable); ok {
				given = a.RealTimeTranscription.URL
			}
		}
		if given != list[0].TranscriptionURL {
			t.Errorf("realTimeTranscriptionAvailable gave %q, the listing %q", given, list[0].TranscriptionURL)
		}

		rec = e.do("GET", calls+id+"/transcriptions/"+live, "dev", "")
		if rec.Code != http.StatusOK {
			t.Fatalf("get: %d %s", rec.Code, rec.Body)
		}
		conforms(t, "callTranscriptionResponse", rec.Body.Bytes())
		want := `{"accountId":"9900000","callId":"` + id + `","transcriptionId":"` + live + `","tracks":[` +
			`{"detectedLanguage":"en-US","track":"inbound","transcript":"I want to cancel my order","confidence":1},` +
			`{"detectedLanguage":"en-US","track":"outbound","transcript":"Welcome to the shop","confidence":1}]}`
		if rec.Body.String() != want {
			t.Errorf("got  %s\nwant %s", rec.Body, want)
		}
		// Nothing was said while "quiet" ran: no track has a transcript.
		rec = e.do("GET", calls+id+"/transcriptions/"+list[1].TranscriptionID, "dev", "")
		conforms(t, "callTranscriptionResponse", rec.Body.Bytes())
		if rec.Code != http.StatusOK || !strings.HasSuffix(rec.Body.String(), `"tracks":[]}`) {
			t.Errorf("quiet: %d %s", rec.Code, rec.Body)
		}

		// Unknown calls and transcriptions, another call's, hostile ids.
		notFound(t, "list of an unknown call", e.do("GET", calls+callback.NewCallID()+"/transcriptions", "dev", ""))
		notFound(t, "unknown transcription", e.do("GET", calls+id+"/transcriptions/"+callback.NewTranscriptionID(), "dev", ""))
		notFound(t, "another call's transcription", e.do("GET", calls+other+"/transcriptions/"+live, "dev", ""))
		notFound(t, "delete another call's", e.do("DELETE", calls+other+"/transcriptions/"+live, "dev", ""))
		notFound(t, "id ../x", e.do("GET", calls+id+"/transcriptions/..%2Fx", "dev", ""))
		if rec := e.do("GET", calls+other+"/transcriptions", "dev", ""); rec.Code != http.StatusOK || rec.Body.String() != "[]" {
			t.Errorf("a call without transcriptions: %d %s, want 200 []", rec.Code, rec.Body)
		}
		// Authentication as everywhere in /api/v2.
		if rec := e.do("GET", calls+id+"/transcriptions/"+live, "", ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("without credentials: %d, want 401", rec.Code)
		}
		if rec := e.do("GET", "/api/v2/accounts/9900001/calls/"+id+"/transcriptions", "dev", ""); rec.Code != http.StatusForbidden {
			t.Errorf("another account's path: %d, want 403", rec.Code)
		}
		if rec := e.do("DELETE", calls+id+"/transcriptions/"+live, "", ""); rec.Code != http.StatusUnauthorized {
			t.Errorf("delete without credentials: %d, want 401", rec.Code)
		}

		// DELETE is 200 with no body; the transcription is gone then.
		rec = e.do("DELETE", calls+id+"/transcriptions/"+live, "dev", "")
		if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
			t.Errorf("delete: %d %q, want 200 and no body", rec.Code, rec.Body)
		}
		notFound(t, "get after delete", e.do("GET", calls+id+"/transcriptions/"+live, "dev", ""))
		notFound(t, "delete twice", e.do("DELETE", calls+id+"/transcriptions/"+live, "dev", ""))
		rec = e.do("GET", calls+id+"/transcriptions", "dev", "")
		conforms(t, "callTranscriptionMetadataList", rec.Body.Bytes())
		if !strings.Contains(rec.Body.String(), list[1].TranscriptionID) || strings.Contains(rec.Body.String(), live) {
			t.Errorf("listed after delete: %s", rec.Body)
		}
	})
}

// A track's transcript is its utterances in the order they began, whatever
// the order they were recognized in, without the ones that failed; its
// confidence is their mean weighted by their words.
func TestLiveTranscriptionTracksSummed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, map[string]string{appURL + "/hangup": `<Response><Hangup/></Response>`})
		id := e.call(appURL + "/hangup")
		e.settle()
		words := func(n int) []engine.TranscriptWord { return make([]engine.TranscriptWord, n) }
		kept := &engine.LiveTranscription{ID: callback.NewTranscriptionID(), Name: "heard", AccountID: account, CallID: id,
			Tracks: []string{"inbound", "outbound"}, StartTime: time.Now(), CompletedTime: time.Now().Add(time.Minute),
			Transcripts: []engine.Transcript{
				{Track: "outbound", Start: 0, Text: "Hello", Confidence: 0.8}, // no words: the text's are counted
				{Track: "inbound", Start: 3 * time.Second, Text: "my order", Words: words(2), Confidence: 0.5},
				{Track: "inbound", Start: time.Second, Text: "I want to cancel", Words: words(4), Confidence: 1},
				{Track: "inbound", Start: 2 * time.Second, Err: "the recognizer gave up"},
				{Track: "outbound", Start: 5 * time.Second, Text: "Goodbye now", Confidence: 0.2},
			}}
		if err := e.keeper.SaveTranscription(context.Background(), kept); err != nil {
			t.Fatal(err)
		}
		rec := e.do("GET", "/api/v2/accounts/"+account+"/calls/"+id+"/transcriptions/"+kept.ID, "dev", "")
		conforms(t, "callTranscriptionResponse", rec.Body.Bytes())
		// inbound (4×1 + 2×0.5) / 6 = 0.833; outbound (1×0.8 + 2×0.2) / 3 = 0.4.
		want := `"tracks":[{"detectedLanguage":"en-US","track":"inbound","transcript":"I want to cancel my order","confidence":0.833},` +
			`{"detectedLanguage":"en-US","track":"outbound","transcript":"Hello Goodbye now","confidence":0.4}]}`
		if rec.Code != http.StatusOK || !strings.HasSuffix(rec.Body.String(), want) {
			t.Errorf("got %d %s\nwant …%s", rec.Code, rec.Body, want)
		}
	})
}
