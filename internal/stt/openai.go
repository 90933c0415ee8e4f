package stt

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voicehook/voicehook/internal/egress"
	"github.com/voicehook/voicehook/internal/pcm"
)

// DefaultOpenAIModel is the model an OpenAI without one asks for.
const DefaultOpenAIModel = "whisper-1"

// maxResponse caps the body of a transcription response.
const maxResponse = 8 << 20

// OpenAI recognizes speech by posting each clip to an OpenAI-compatible
// transcription endpoint, {BaseURL}/v1/audio/transcriptions: what OpenAI
// and other hosted providers serve, and local Whisper servers (such as
// whisper.cpp's server or faster-whisper based ones) imitate. The request
// is multipart/form-data with the clip as a 16-bit mono WAV in "file"
// (resampled to 16 kHz when its rate is higher: Whisper listens at 16 kHz),
// "model", "language" (the primary subtag of Options.Language: "en"),
// "response_format" verbose_json and "timestamp_granularities[]" word and
// segment; Options.Phrases go in "prompt", comma-separated, as a hint
// (such a service has no grammar). Key, when set, is sent as a Bearer
// token.
//
// From the answer, Result.Text is "text"; the Words are "words" with their
// times, or, when the service gives segments only, each segment's words
// spread over its time in proportion to their length (an estimate). A
// word's Confidence is its "probability" when the service gives one (as
// faster-whisper servers do), otherwise the exp of its segment's
// "avg_logprob"; 0 when the answer has neither. Segments Whisper itself
// judges not speech (no_speech_prob above 0.6 with avg_logprob below -1)
// are dropped with their words, and a clip in which pcm.VAD hears no
// speech is not sent at all: Whisper is known to write words into silence.
//
// An OpenAI is safe for concurrent use; do not change its fields while it
// is in use.
type OpenAI struct {
	// BaseURL is the service's root, such as "http://127.0.0.1:8000"
	// (only described here); a final "/v1" is accepted and not doubled.
	// Required.
	BaseURL string
	// Key is the API key, sent as "Authorization: Bearer <Key>"; ""
	// sends none.
	Key string
	// Model names the model; default DefaultOpenAIModel.
	Model string
	// Client makes the requests; default: a client of its own,
	// egress.New without the guard. The operator configures BaseURL, so
	// a guard against apps' URLs does not belong here.
	Client *http.Client
	// Timeout bounds one request; 0 means DefaultTimeout plus twice the
	// clip's length.
	Timeout time.Duration
}

// StatusError is a transcription service's answer other than 200 OK.
type StatusError struct {
	URL    string // the endpoint, without credentials
	Status int
	Body   string // the start of the body, for the message
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("stt: POST %s: %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Recognize posts clip to the service and parses its answer.
func (o *OpenAI) Recognize(ctx context.Context, clip pcm.Clip, opt Options) (Result, error) {
	endpoint, shown, err := o.endpoint()
	if err != nil {
		return Result{}, err
	}
	if clip.Rate <= 0 && len(clip.Samples) > 0 {
		return Result{}, fmt.Errorf("stt: openai: clip has no sample rate (%d)", clip.Rate)
	}
	if !hasSpeech(clip) {
		return Result{}, nil
	}
	if clip.Rate > 16000 {
		clip = pcm.Resample(clip, 16000)
	}
	body, ctype, err := o.form(clip, opt)
	if err != nil {
		return Result{}, err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout + 2*clip.Duration()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("stt: openai: %s: %w", shown, err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	if o.Key != "" {
		req.Header.Set("Authorization", "Bearer "+o.Key)
	}
	client := o.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		// The url.Error names the URL as given, credentials and all.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return Result{}, fmt.Errorf("stt: POST %s: %w", shown, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return Result{}, fmt.Errorf("stt: POST %s: reading the answer: %w", shown, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Result{}, &StatusError{URL: shown, Status: resp.StatusCode, Body: start(raw)}
	}
	if len(raw) > maxResponse {
		return Result{}, fmt.Errorf("stt: POST %s: %w: longer than %d MB", shown, ErrResponse, maxResponse>>20)
	}
	r, err := parseVerbose(raw)
	if err != nil {
		return Result{}, fmt.Errorf("stt: POST %s: %w: %v: %s", shown, ErrResponse, err, start(raw))
	}
	return r, nil
}

var defaultClient = egress.New(egress.Config{})

// endpoint returns the transcription URL, and the same without
// credentials for messages.
func (o *OpenAI) endpoint() (full, shown string, err error) {
	if o.BaseURL == "" {
		return "", "", errors.New("stt: openai: no base URL configured")
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Not quoted: it may hold credentials.
		return "", "", errors.New("stt: openai: the base URL is not an http or https URL")
	}
	p := strings.TrimSuffix(u.Path, "/")
	p = strings.TrimSuffix(p, "/v1")
	u.Path = p + "/v1/audio/transcriptions"
	u.RawPath = ""
	full = u.String()
	u.User = nil
	u.RawQuery = ""
	return full, u.String(), nil
}

// form builds the multipart body of a request for clip.
func (o *OpenAI) form(clip pcm.Clip, opt Options) (body []byte, ctype string, err error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="speech.wav"`)
	h.Set("Content-Type", "audio/wav")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if err := pcm.WriteWAV(part, clip.Rate, clip.Samples); err != nil {
		return nil, "", fmt.Errorf("stt: openai: %w", err)
	}
	fields := [][2]string{
		{"model", cmp.Or(o.Model, DefaultOpenAIModel)},
		{"language", primaryLanguage(opt.Language)},
		{"response_format", "verbose_json"},
		{"timestamp_granularities[]", "word"},
		{"timestamp_granularities[]", "segment"},
	}
	if len(opt.Phrases) > 0 {
		fields = append(fields, [2]string{"prompt", strings.Join(opt.Phrases, ", ")})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), w.FormDataContentType(), nil
}

// start returns the first line of b, cut at about 200 bytes, as valid
// text; "…" marks a cut.
func start(b []byte) string {
	const n = 200
	s := strings.TrimSpace(string(b))
	cut := false
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s, cut = s[:i], true
	}
	if len(s) > n {
		s, cut = s[:n], true
	}
	s = strings.ToValidUTF8(s, "")
	if cut {
		s += "…"
	}
	return s
}

// verbose is the part of a verbose_json transcription read here.
type verbose struct {
	Text  *string `json:"text"`
	Words []struct {
		Word        string   `json:"word"`
		Start       float64  `json:"start"`
		End         float64  `json:"end"`
		Probability *float64 `json:"probability"`
	} `json:"words"`
	Segments []struct {
		Start        float64 `json:"start"`
		End          float64 `json:"end"`
		Text         string  `json:"text"`
		AvgLogprob   float64 `json:"avg_logprob"`
		NoSpeechProb float64 `json:"no_speech_prob"`
	} `json:"segments"`
}

type span struct {
	start, end time.Duration
	conf       float64
	drop       bool
}

// parseVerbose reads a verbose_json answer.
func parseVerbose(raw []byte) (Result, error) {
	var v verbose
	if err := json.Unmarshal(raw, &v); err != nil {
		return Result{}, err
	}
	if v.Text == nil {
		return Result{}, errors.New(`no "text"`)
	}
	var segs []span
	dropped := false
	for _, s := range v.Segments {
		if !(s.Start >= 0 && s.End >= s.Start && s.End <= maxSeconds) {
			return Result{}, fmt.Errorf("segment %q from %v s to %v s", s.Text, s.Start, s.End)
		}
		sp := span{start: seconds(s.Start), end: seconds(s.End), drop: s.NoSpeechProb > 0.6 && s.AvgLogprob < -1}
		if s.AvgLogprob != 0 {
			sp.conf = probability(math.Exp(s.AvgLogprob))
		}
		dropped = dropped || sp.drop
		segs = append(segs, sp)
	}
	in := func(start, end time.Duration) *span {
		mid := (start + end) / 2
		for i := range segs {
			if mid >= segs[i].start && mid <= segs[i].end {
				return &segs[i]
			}
		}
		return nil
	}

	var r Result
	for _, w := range v.Words {
		text := strings.TrimSpace(w.Word)
		if text == "" {
			continue
		}
		if !(w.Start >= 0 && w.End >= w.Start && w.End <= maxSeconds) {
			return Result{}, fmt.Errorf("word %q from %v s to %v s", text, w.Start, w.End)
		}
		word := Word{Text: text, Start: seconds(w.Start), End: seconds(w.End)}
		seg := in(word.Start, word.End)
		if seg != nil && seg.drop {
			continue
		}
		switch {
		case w.Probability != nil:
			word.Confidence = probability(*w.Probability)
		case seg != nil:
			word.Confidence = seg.conf
		}
		r.Words = append(r.Words, word)
	}
	if len(v.Words) == 0 {
		for i, s := range v.Segments {
			if !segs[i].drop {
				r.Words = append(r.Words, spread(s.Text, segs[i])...)
			}
		}
	}
	r.Text = strings.TrimSpace(*v.Text)
	if dropped {
		var texts []string
		for i, s := range v.Segments {
			if t := strings.TrimSpace(s.Text); !segs[i].drop && t != "" {
				texts = append(texts, t)
			}
		}
		r.Text = strings.Join(texts, " ")
	}
	var weighted, total float64
	for _, w := range r.Words {
		d := (w.End - w.Start).Seconds()
		weighted += d * w.Confidence
		total += d
	}
	if total > 0 {
		r.Confidence = weighted / total
	}
	if r.Text == "" {
		r.Words = nil
	}
	return r, nil
}

// spread returns the words of a segment's text with times in proportion to
// their lengths.
func spread(text string, s span) []Word {
	fields := strings.Fields(text)
	chars := 0
	for _, f := range fields {
		chars += utf8.RuneCountInString(f)
	}
	words := make([]Word, 0, len(fields))
	at, done := s.start, 0
	for _, f := range fields {
		done += utf8.RuneCountInString(f)
		end := s.start + time.Duration(float64(s.end-s.start)*float64(done)/float64(chars))
		words = append(words, Word{Text: f, Start: at, End: end, Confidence: s.conf})
		at = end
	}
	return words
}
