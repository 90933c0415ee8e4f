package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/voicehook/voicehook/internal/engine"
	"github.com/voicehook/voicehook/internal/redact"
)

// apiError is an error with the HTTP status and the Bandwidth error type
// it is reported with.
type apiError struct {
	status int
	kind   string // the body's "type"
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func validation(msg string) error { return &apiError{http.StatusBadRequest, "validation", msg} }

// voiceAPIError is the body of every error: schema voiceApiError.
type voiceAPIError struct {
	Type        string  `json:"type"`
	Description string  `json:"description"`
	ID          *string `json:"id"`
}

// writeError reports err as Bandwidth does: a status and a voiceApiError
// body. Engine errors map by code.
func writeError(w http.ResponseWriter, err error) {
	status, kind, msg := http.StatusInternalServerError, "internal-error", "An unknown internal error occurred"
	var ae *apiError
	var ee *engine.Error
	switch {
	case errors.As(err, &ae):
		status, kind, msg = ae.status, ae.kind, ae.msg
	case errors.As(err, &ee):
		msg = ee.Msg
		switch ee.Code {
		case engine.EInvalid:
			status, kind = http.StatusBadRequest, "validation"
		case engine.ENotFound:
			status, kind = http.StatusNotFound, "validation"
		case engine.EConflict:
			status, kind = http.StatusConflict, "validation"
		case engine.EUnavailable:
			status, kind = http.StatusServiceUnavailable, "system-overloaded"
		case engine.ELimit:
			status, kind = http.StatusTooManyRequests, "error"
			w.Header().Set("Retry-After", retryAfter(ee.RetryAfter))
		}
	}
	id := uuid.NewString()
	if status == http.StatusConflict || status == http.StatusTooManyRequests {
		id = "" // as Bandwidth's bodies of these have it
	}
	writeJSON(w, status, voiceAPIError{Type: kind, Description: redact.Text(msg), ID: &id}) // a message may echo a URL
}

// retryAfter is a Retry-After header's value: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10)
}

// writeJSON writes v as the JSON body of the response. The body is always
// whole, valid JSON: invalid UTF-8 (an error echoing the request's bytes)
// becomes U+FFFD, and a value that cannot be encoded at all is a 500 with
// an error body saying so.
func writeJSON(w http.ResponseWriter, status int, v any) {
	// Absent maps are null, as Bandwidth's nullable fields are.
	b, err := json.Marshal(v, json.Deterministic(true), json.FormatNilMapAsNull(true), jsontext.AllowInvalidUTF8(true))
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(voiceAPIError{Type: "internal-error", Description: "The response could not be encoded as JSON", ID: new(uuid.NewString())})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// notFoundBody is the Spring-style body Bandwidth answers an unknown path with.
type notFoundBody struct {
	Timestamp string `json:"timestamp"`
	Status    int    `json:"status"`
	Error     string `json:"error"`
	Message   string `json:"message"`
	Path      string `json:"path"`
}

func writeUnknownPath(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, notFoundBody{
		Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000+00:00"),
		Status:    http.StatusNotFound, Error: "Not Found", Message: "No message available", Path: r.URL.Path,
	})
}

// mapAll converts a listing for its JSON form; an empty listing is [],
// never null.
func mapAll[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}
