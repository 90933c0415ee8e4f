package stt_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/voicehook/voicehook/internal/pcm"
	"github.com/voicehook/voicehook/internal/stt"
)

// speechLike returns d of a loud warbling tone at rate: audio pcm.VAD
// takes for speech, after quiet of the same length.
func speechLike(rate int, d time.Duration) pcm.Clip {
	quiet := make([]int16, int(d*time.Duration(rate)/time.Second))
	loud := pcm.Tone(440, rate, d, 0.3)
	for i := range loud {
		loud[i] = int16(float64(loud[i]) * (0.6 + 0.4*math.Sin(float64(i)/float64(rate)*2*math.Pi*3)))
	}
	return pcm.Clip{Rate: rate, Samples: append(quiet, loud...)}
}

// request is what the fake service received.
type request struct {
	path, auth, ctype string
	fields            map[string][]string
	file              pcm.Clip
	fileType, name    string
	err               error
}

// fakeService answers every request with status and body, and records the
// request on got.
func fakeService(t *testing.T, status int, body string) (*httptest.Server, chan request) {
	t.Helper()
	got := make(chan request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := request{path: r.URL.Path, auth: r.Header.Get("Authorization"), ctype: r.Header.Get("Content-Type")}
		if err := r.ParseMultipartForm(32 << 20); err != nil {
			rec.err = err
		} else {
			rec.fields = r.MultipartForm.Value
			if fh := r.MultipartForm.File["file"]; len(fh) == 1 {
				rec.fileType, rec.name = fh[0].Header.Get("Content-Type"), fh[0].Filename
				f, err := fh[0].Open()
				if err == nil {
					rec.file, err = pcm.DecodeWAV(f, 0)
					f.Close()
				}
				rec.err = err
			}
		}
		select {
		case got <- rec:
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

const verboseAnswer = `{"task":"transcribe","language":"english","duration":2.0,
 "text":" Yes, one two three.",
 "words":[{"word":"Yes","start":0.5,"end":0.9},{"word":" one","start":1.0,"end":1.2},
          {"word":"two","start":1.2,"end":1.5},{"word":"three","start":1.5,"end":1.9}],
 "segments":[{"id":0,"start":0.4,"end":2.0,"text":" Yes, one two three.","avg_logprob":-0.25,"no_speech_prob":0.01}]}`

func TestOpenAIRequestAndWords(t *testing.T) {
	srv, got := fakeService(t, http.StatusOK, verboseAnswer)
	clip := speechLike(8000, time.Second)
	o := &stt.OpenAI{BaseURL: srv.URL + "/v1/", Key: "sk-test", Model: "whisper-large-v3", Client: srv.Client()}
	r, err := o.Recognize(context.Background(), clip, stt.Options{Language: "en-GB", Phrases: []string{"yes", "no"}})
	if err != nil {
		t.Fatal(err)
	}
	req := <-got
	if req.err != nil {
		t.Fatalf("the service could not read the request: %v", req.err)
	}
	if req.path != "/v1/audio/transcriptions" {
		t.Errorf("posted to %s", req.path)
	}
	if req.auth != "Bearer sk-test" {
		t.Errorf("Authorization %q", req.auth)
	}
	if !strings.HasPrefix(req.ctype, "multipart/form-data") {
		t.Errorf("Content-Type %q", req.ctype)
	}
	want := map[string][]string{
		"model":                     {"whisper-large-v3"},
		"language":                  {"en"},
		"response_format":           {"verbose_json"},
		"timestamp_granularities[]": {"word", "segment"},
		"prompt":                    {"yes, no"},
	}
	for k, v := range want {
		if !slices.Equal(req.fields[k], v) {
			t.Errorf("field %s = %q, want %q", k, req.fields[k], v)
		}
	}
	if req.fileType != "audio/wav" || !strings.HasSuffix(req.name, ".wav") {
		t.Errorf("file %q of type %q", req.name, req.fileType)
	}
	if req.file.Rate != clip.Rate || !slices.Equal(req.file.Samples, clip.Samples) {
		t.Errorf("the file decodes to %d samples at %d Hz, not the clip's %d at %d Hz", len(req.file.Samples), req.file.Rate, len(clip.Samples), clip.Rate)
	}

	if r.Text != "Yes, one two three." {
		t.Errorf("text %q", r.Text)
	}
	wantWords := []stt.Word{
		{Text: "Yes", Start: 500 * time.Millisecond, End: 900 * time.Millisecond},
		{Text: "one", Start: time.Second, End: 1200 * time.Millisecond},
		{Text: "two", Start: 1200 * time.Millisecond, End: 1500 * time.Millisecond},
		{Text: "three", Start: 1500 * time.Millisecond, End: 1900 * time.Millisecond},
	}
	conf := math.Exp(-0.25)
	if len(r.Words) != len(wantWords) {
		t.Fatalf("words %+v", r.Words)
	}
	for i, w := range r.Words {
		ww := wantWords[i]
		if w.Text != ww.Text || w.Start != ww.Start || w.End != ww.End || math.Abs(w.Confidence-conf) > 1e-9 {
			t.Errorf("word %d: %+v, want %+v with the segment's confidence %.3f", i, w, ww, conf)
		}
	}
	if math.Abs(r.Confidence-conf) > 1e-9 {
		t.Errorf("confidence %v, want %v", r.Confidence, conf)
	}
}

func TestOpenAIAnswers(t *testing.T) {
	clip := speechLike(16000, 500*time.Millisecond)
	cases := []struct {
		name, body string
		want       stt.Result
	}{
		{"segments only: words spread over each segment by their length",
			`{"text":"yes no","segments":[{"start":1,"end":2,"text":" yes no","avg_logprob":-0.1,"no_speech_prob":0.02}]}`,
			stt.Result{Text: "yes no", Confidence: math.Exp(-0.1), Words: []stt.Word{
				{Text: "yes", Start: time.Second, End: 1600 * time.Millisecond, Confidence: math.Exp(-0.1)},
				{Text: "no", Start: 1600 * time.Millisecond, End: 2 * time.Second, Confidence: math.Exp(-0.1)}}}},
		{"per-word probability",
			`{"text":"billing","words":[{"word":" billing","start":0.2,"end":0.6,"probability":0.9}]}`,
			stt.Result{Text: "billing", Confidence: 0.9, Words: []stt.Word{
				{Text: "billing", Start: 200 * time.Millisecond, End: 600 * time.Millisecond, Confidence: 0.9}}}},
		{"text only: no words, no confidence",
			`{"text":"hello there"}`,
			stt.Result{Text: "hello there"}},
		{"a segment Whisper judges not speech is dropped",
			`{"text":"Thank you. Sales.","words":[{"word":"Thank","start":0,"end":0.3},{"word":"you.","start":0.3,"end":0.6},{"word":"Sales.","start":1.1,"end":1.5}],
			  "segments":[{"start":0,"end":1,"text":" Thank you.","avg_logprob":-1.5,"no_speech_prob":0.9},
			              {"start":1,"end":2,"text":" Sales.","avg_logprob":-0.2,"no_speech_prob":0.1}]}`,
			stt.Result{Text: "Sales.", Confidence: math.Exp(-0.2), Words: []stt.Word{
				{Text: "Sales.", Start: 1100 * time.Millisecond, End: 1500 * time.Millisecond, Confidence: math.Exp(-0.2)}}}},
		{"nothing heard", `{"text":"","words":[],"segments":[]}`, stt.Result{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fakeService(t, http.StatusOK, tc.body)
			o := &stt.OpenAI{BaseURL: srv.URL, Client: srv.Client()}
			r, err := o.Recognize(context.Background(), clip, stt.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !sameResult(r, tc.want) {
				t.Errorf("got  %+v\nwant %+v", r, tc.want)
			}
		})
	}
}

func sameResult(a, b stt.Result) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }
	return a.Text == b.Text && near(a.Confidence, b.Confidence) &&
		slices.EqualFunc(a.Words, b.Words, func(x, y stt.Word) bool {
			return x.Text == y.Text && x.Start == y.Start && x.End == y.End && near(x.Confidence, y.Confidence)
		})
}

func TestOpenAIErrors(t *testing.T) {
	clip := speechLike(8000, 500*time.Millisecond)
	t.Run("a status other than 200", func(t *testing.T) {
		srv, _ := fakeService(t, http.StatusInternalServerError, `{"error":{"message":"model overloaded"}}`+"\n"+strings.Repeat("x", 1000))
		o := &stt.OpenAI{BaseURL: srv.URL, Client: srv.Client()}
		_, err := o.Recognize(context.Background(), clip, stt.Options{})
		var se *stt.StatusError
		if !errors.As(err, &se) || se.Status != 500 {
			t.Fatalf("got %v, want a StatusError with 500", err)
		}
		msg := err.Error()
		for _, part := range []string{srv.URL + "/v1/audio/transcriptions", "500", "model overloaded"} {
			if !strings.Contains(msg, part) {
				t.Errorf("%q does not name %q", msg, part)
			}
		}
		if strings.Contains(msg, "xxx") {
			t.Errorf("%q quotes more than the body's first line", msg)
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		srv, _ := fakeService(t, http.StatusOK, `{"text": "half`)
		o := &stt.OpenAI{BaseURL: srv.URL, Client: srv.Client()}
		_, err := o.Recognize(context.Background(), clip, stt.Options{})
		if !errors.Is(err, stt.ErrResponse) {
			t.Fatalf("got %v, want ErrResponse", err)
		}
		if msg := err.Error(); !strings.Contains(msg, srv.URL+"/v1/audio/transcriptions") || !strings.Contains(msg, `{"text": "half`) {
			t.Errorf("%q does not name the URL and quote the body", msg)
		}
	})
	t.Run("JSON that is not a transcription", func(t *testing.T) {
		srv, _ := fakeService(t, http.StatusOK, `{"id":"x"}`)
		o := &stt.OpenAI{BaseURL: srv.URL, Client: srv.Client()}
		if _, err := o.Recognize(context.Background(), clip, stt.Options{}); !errors.Is(err, stt.ErrResponse) {
			t.Fatalf("got %v, want ErrResponse", err)
		}
	})
	t.Run("credentials in the base URL stay out of messages", func(t *testing.T) {
		srv, _ := fakeService(t, http.StatusUnauthorized, `{"error":"bad key"}`)
		base := strings.Replace(srv.URL, "http://", "http://user:secret@", 1)
		o := &stt.OpenAI{BaseURL: base, Client: srv.Client()}
		_, err := o.Recognize(context.Background(), clip, stt.Options{})
		if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "401") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a service that does not answer in time", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Once the body is read, the request's context ends when the
			// client hangs up.
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}))
		defer srv.Close()
		o := &stt.OpenAI{BaseURL: srv.URL, Client: srv.Client(), Timeout: 100 * time.Millisecond}
		_, err := o.Recognize(context.Background(), clip, stt.Options{})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), srv.URL) {
			t.Errorf("got %v, want a deadline naming the URL", err)
		}
	})
	t.Run("a base URL that is not http", func(t *testing.T) {
		o := &stt.OpenAI{BaseURL: "ftp://user:secret@127.0.0.1/", Client: http.DefaultClient}
		_, err := o.Recognize(context.Background(), clip, stt.Options{})
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("no base URL", func(t *testing.T) {
		if _, err := (&stt.OpenAI{}).Recognize(context.Background(), clip, stt.Options{}); err == nil {
			t.Error("no error")
		}
	})
}

func TestOpenAISendsNoSilence(t *testing.T) {
	srv, got := fakeService(t, http.StatusOK, `{"text":"Thank you."}`)
	o := &stt.OpenAI{BaseURL: srv.URL, Client: srv.Client()}
	r, err := o.Recognize(context.Background(), pcm.Clip{Rate: 8000, Samples: make([]int16, 16000)}, stt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "" || len(r.Words) != 0 {
		t.Errorf("silence heard as %+v", r)
	}
	select {
	case <-got:
		t.Error("silence was sent to the service")
	default:
	}
}
