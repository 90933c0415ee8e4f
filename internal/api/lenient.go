package api

import (
	"cmp"

	"github.com/voicehook/voicehook/internal/engine"
)

// fallbackMethod is answerFallbackMethod as createCall's 201 echoes it.
// The call keeps none without an answerFallbackUrl, but Bandwidth's hosted
// API echoes it all the same (the one given, else the documented POST),
// and its SDKs' tests expect it. (answerMethod and disconnectMethod are
// always kept, POST when not given.)
func fallbackMethod(created *engine.Call, req *createCallRequest) *string {
	given := ""
	if req.AnswerFallbackMethod != nil {
		given = *req.AnswerFallbackMethod
	}
	return new(cmp.Or(created.AnswerFallbackMethod, given, "POST"))
}
