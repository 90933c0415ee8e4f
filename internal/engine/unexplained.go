package engine

// unexplained is the errorMessage of a call that ended with cause unknown:
// the far end failed in a way nothing explains (PhoneUnexplained); reason
// is what the line knows of it, such as "SIP 699".
func unexplained(reason string) string {
	msg := "The call failed for an unknown reason"
	if reason != "" {
		msg += ": " + reason
	}
	return msg
}
