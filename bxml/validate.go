package bxml

import (
	"fmt"
	"strings"

	"github.com/voicehook/voicehook/callback"
)

// problem is a rule a verb breaks beyond its single values.
type problem struct {
	verb, attr, msg string
}

// checkVerb applies the rules that tie a verb's attributes and children
// together.
func checkVerb(v Verb) []problem {
	var out []problem
	add := func(attr, format string, args ...any) {
		out = append(out, problem{v.VerbName(), attr, fmt.Sprintf(format, args...)})
	}
	switch v := v.(type) {
	case *Gather:
		if n := len(v.Prompts); v.RepeatCount > 1 && n*v.RepeatCount > MaxPrompts {
			add("repeatCount", "%d prompts repeated %d times play %d prompts; at most %d", n, v.RepeatCount, n*v.RepeatCount, MaxPrompts)
		}
	case *Transfer:
		if len(v.Targets) == 0 {
			add("", "needs at least one <PhoneNumber> or <SipUri>")
		}
	case *StartTranscription:
		if v.Stabilized != nil && v.Destination == "" {
			add("stabilized", "applies only with a destination")
		}
	case *SpeakSentence:
		switch {
		case v.Text != "" && v.SSML != "":
			add("", "has both Text and SSML; set one")
		case strings.TrimSpace(v.Text) == "" && strings.TrimSpace(v.SSML) == "":
			add("", "has nothing to say")
		}
	case *Connect:
		if len(v.Endpoints) == 0 {
			add("", "needs at least one <Endpoint>")
		}
	case *Conference:
		if v.CallIDsToCoach != "" {
			for _, id := range strings.Split(v.CallIDsToCoach, ",") {
				if err := callback.ValidateCallID(strings.TrimSpace(id)); err != nil {
					add("callIdsToCoach", "%v", err)
					break
				}
			}
		}
	}
	return out
}

// checkVerbs applies the rules about a document's verbs together.
func checkVerbs(verbs []Verb) []problem {
	var gather, forward bool
	for _, v := range verbs {
		switch v.(type) {
		case *StartGather:
			gather = true
		case *Forward:
			forward = true
		}
	}
	if gather && forward {
		return []problem{{"Forward", "", "cannot be used with <StartGather>"}}
	}
	return nil
}
