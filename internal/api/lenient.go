package api

// echoMethod is a webhook method as createCall's 201 echoes it: the one
// the call keeps, else the one the request gave, else the documented
// default, POST. Bandwidth's hosted API echoes every method, the one of a
// URL the request left out included (answerFallbackMethod with no
// answerFallbackUrl), and its SDKs' tests expect it.
func echoMethod(kept string, given *string) *string {
	switch {
	case kept != "":
	case given != nil:
		kept = *given
	default:
		kept = "POST"
	}
	return &kept
}
