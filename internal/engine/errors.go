package engine

import (
	"errors"
	"time"

	"github.com/google/uuid"
)

// Code classifies an engine error; internal/api maps codes to HTTP status.
type Code string

// Error codes.
const (
	EInvalid     Code = "invalid"     // the request is malformed or out of range
	ENotFound    Code = "not_found"   // no such call for this account
	EConflict    Code = "conflict"    // the call cannot do that in its state
	EUnavailable Code = "unavailable" // the engine is shutting down
	ELimit       Code = "limit"       // an account limit refuses the call (limits.go)
	EInternal    Code = "internal"    // anything else
)

// Error is the engine's error: a code and a message for people.
type Error struct {
	Code Code
	Msg  string
	// RetryAfter, with ELimit, is when a refused request may succeed.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Msg }

// ErrorCode returns the code of an *Error in err's chain, or EInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// newErrorID returns the id an error event is known by (the errorId field).
func newErrorID() string { return uuid.NewString() }
