package siphdr

import "fmt"

// Outcome is what a final response to our INVITE means for the call.
type Outcome int

// The outcomes of an outbound INVITE. The engine turns them into a
// disconnect cause: Busy busy, Rejected rejected, NoAnswer timeout, Failed
// error, Unexplained unknown.
const (
	// Answered: a 2xx; the call is up.
	Answered Outcome = iota + 1
	// Busy: 486 Busy Here, 600 Busy Everywhere.
	Busy
	// Rejected: 403 Forbidden, 603 Decline, 607 Unwanted, 608 Rejected.
	Rejected
	// NoAnswer: 408 Request Timeout, 480 Temporarily Unavailable.
	NoAnswer
	// Failed: every other code.
	Failed
	// TryNext: 503 Service Unavailable. Try the next gateway (RFC 3261
	// §21.5.4); when none is left, treat it as Failed.
	TryNext
	// Unexplained: a final response whose code has no registered meaning
	// (499, 699) or lies past the classes (700 and up). RFC 3261 §8.1.3.2
	// would read it as the x00 of its class; the dialect has a cause for a
	// failure nothing explains, unknown, and this is it.
	Unexplained
)

var outcomeNames = [...]string{"", "Answered", "Busy", "Rejected", "NoAnswer", "Failed", "TryNext", "Unexplained"}

// String returns the outcome's name, e.g. "Busy".
func (o Outcome) String() string {
	if o < Answered || o > Unexplained {
		return fmt.Sprintf("Outcome(%d)", int(o))
	}
	return outcomeNames[o]
}

// Final maps the code of a final response to our INVITE to an outcome.
// reason is one line for errorMessage naming the code and its standard
// reason phrase, e.g. "SIP 404 Not Found"; a code without a registered
// phrase is named alone ("SIP 499") and is Unexplained, as is a code past
// 699. A code under 200 is Failed.
//
// 487 Request Terminated, the answer to our own CANCEL, is Failed here: the
// caller knows why it cancelled (callTimeout, or the app ending the call)
// and reports that instead.
func Final(code int) (o Outcome, reason string) {
	reason = fmt.Sprintf("SIP %d", code)
	if p, ok := phrases[code]; ok {
		reason += " " + p
	}
	switch {
	case code < 200:
		return Failed, reason + " (not a final response)"
	case code < 300:
		return Answered, reason
	case code > 699:
		return Unexplained, reason + " (no SIP class)"
	}
	if _, ok := phrases[code]; !ok {
		return Unexplained, reason
	}
	switch code {
	case 486, 600:
		return Busy, reason
	case 403, 603, 607, 608:
		return Rejected, reason
	case 408, 480:
		return NoAnswer, reason
	case 503:
		return TryNext, reason
	}
	return Failed, reason
}

// phrases are the standard reason phrases of the SIP response codes in the
// IANA registry that a UAC can meet.
var phrases = map[int]string{
	100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued",
	183: "Session Progress", 199: "Early Dialog Terminated",
	200: "OK", 202: "Accepted", 204: "No Notification",
	300: "Multiple Choices", 301: "Moved Permanently", 302: "Moved Temporarily",
	305: "Use Proxy", 380: "Alternative Service",
	400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
	404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
	407: "Proxy Authentication Required", 408: "Request Timeout", 410: "Gone",
	412: "Conditional Request Failed", 413: "Request Entity Too Large",
	414: "Request-URI Too Long", 415: "Unsupported Media Type",
	416: "Unsupported URI Scheme", 417: "Unknown Resource-Priority",
	420: "Bad Extension", 421: "Extension Required", 422: "Session Interval Too Small",
	423: "Interval Too Brief", 424: "Bad Location Information", 425: "Bad Alert Message",
	428: "Use Identity Header", 429: "Provide Referrer Identity", 430: "Flow Failed",
	433: "Anonymity Disallowed", 436: "Bad Identity Info", 437: "Unsupported Credential",
	438: "Invalid Identity Header", 439: "First Hop Lacks Outbound Support",
	440: "Max-Breadth Exceeded", 469: "Bad Info Package", 470: "Consent Needed",
	480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
	482: "Loop Detected", 483: "Too Many Hops", 484: "Address Incomplete", 485: "Ambiguous",
	486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here",
	489: "Bad Event", 491: "Request Pending", 493: "Undecipherable",
	494: "Security Agreement Required",
	500: "Server Internal Error", 501: "Not Implemented", 502: "Bad Gateway",
	503: "Service Unavailable", 504: "Server Time-out", 505: "Version Not Supported",
	513: "Message Too Large", 555: "Push Notification Service Not Supported",
	580: "Precondition Failure",
	600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
	606: "Not Acceptable", 607: "Unwanted", 608: "Rejected",
}
