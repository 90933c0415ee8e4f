package engine

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voicehook/voicehook/bxml"
	"github.com/voicehook/voicehook/callback"
	"github.com/voicehook/voicehook/internal/audio"
	"github.com/voicehook/voicehook/internal/redact"
)

// This file runs BXML: the part of the state machine that steps through a
// document's verbs.

// runDocument replaces the running document and starts its first verb.
func (s *callState) runDocument(verbs []bxml.Verb, base string, now time.Time) []action {
	s.doc, s.pc, s.base = verbs, 0, base
	return s.advance(now)
}

// advance runs verbs until one takes time or waits for a webhook. The end
// of the document is an implicit <Hangup>.
func (s *callState) advance(now time.Time) []action {
	var acts []action
	for {
		s.wait = waitNothing
		if s.pc >= len(s.doc) {
			if s.leg != nil && s.leg.won && !s.leg.bridged {
				// A transfer's B-leg is bridged when its BXML runs out.
				return append(acts, s.bridgeLeg(now)...)
			}
			return append(acts, s.end(now, s.hangupCause(), "", 0, false)...)
		}
		v := bxml.WithDefaults(s.doc[s.pc])
		s.pc++
		acts = append(acts, actVerbRan{v.VerbName()}, history(s, now, "verb", describeVerb(v), verbDetail(v)))
		if s.call.State != StateAnswered && answers(v) {
			acts = append(acts, s.answerInbound(now)...)
		}
		more, done := s.runVerb(v, now)
		acts = append(acts, more...)
		if done {
			return acts
		}
	}
}

// runVerb starts one verb. It returns done when the call now waits (a
// timer, a webhook) or has ended.
func (s *callState) runVerb(v bxml.Verb, now time.Time) (acts []action, done bool) {
	switch v := v.(type) {
	case *bxml.Hangup:
		return s.end(now, s.hangupCause(), "", 0, false), true
	case *bxml.Pause:
		return s.sleep(v.Duration), true
	case *bxml.Ring:
		return s.sleep(v.Duration), true
	case *bxml.SpeakSentence:
		length, text := speechLength(v), speechText(v)
		s.played(length, text, now)
		said := s.said(TrackOutbound, text, length, now)
		return append(said, s.play(Playback{Prompts: []Prompt{speechPrompt(v)}, What: text, Length: length})...), true
	case *bxml.PlayAudio:
		return s.playAudio([]*bxml.PlayAudio{v}, now), true
	case *bxml.SendDtmf:
		var acts []action
		d := Digits{Keys: v.Digits, Tone: v.ToneDuration, Gap: v.ToneInterval}
		if d.Tones() != "" {
			acts = append(acts, actSendDigits{d})
		}
		return append(acts, s.sleep(d.Length())...), true
	case *bxml.Tag:
		s.setTag(&v.Value)
		return nil, false
	case *bxml.Redirect:
		s.applyTag(v.Tag)
		ev := &callback.Redirect{Call: s.eventCall(), Transfer: s.transferFields()}
		ev.EventTime = callback.TimeOf(now)
		return s.send(ev, Target{
			URL: v.RedirectURL, Method: v.RedirectMethod, Username: v.Username, Password: v.Password,
			FallbackURL: v.RedirectFallbackURL, FallbackMethod: v.RedirectFallbackMethod,
			FallbackUsername: v.FallbackUsername, FallbackPassword: v.FallbackPassword,
		}, now), true
	case *bxml.Gather:
		return s.startGatherVerb(v, now), true
	case *bxml.StartGather:
		s.applyTag(v.Tag)
		s.startGather = v
		return nil, false
	case *bxml.StopGather:
		s.startGather = nil
		return nil, false
	case *bxml.Transfer:
		return s.startTransfer(v, now), true
	case *bxml.Forward:
		return s.startForward(v, now), true
	case *bxml.Bridge:
		return s.startBridge(v, now), true
	case *bxml.Conference:
		return s.startConference(v, now), true
	case *bxml.Record:
		return s.startRecord(v, now), true
	case *bxml.StartRecording:
		return s.startCallRecording(v, now), s.wait == waitFinished
	case *bxml.PauseRecording:
		return s.pauseCallRecording(true, now), false
	case *bxml.ResumeRecording:
		return s.pauseCallRecording(false, now), false
	case *bxml.StopRecording:
		return s.stopCallRecording(now), false
	case *bxml.StartStream:
		return s.startStream(v, now), false
	case *bxml.StopStream:
		return s.stopStream(v.Name, now), false
	case *bxml.StartTranscription:
		return s.startTranscription(v, now), false
	case *bxml.StopTranscription:
		return s.stopTranscription(v.Name, now), false
	}
	msg := fmt.Sprintf("<%s> is not supported by this voicehook version", v.VerbName())
	return s.end(now, callback.CauseApplicationError, msg, 0, false), true
}

// answers reports whether running v answers an unanswered inbound call:
// every verb that needs the media path does; Tag, Redirect, StartGather,
// StopGather, Hangup (which rejects), Forward and <Ring answerCall="false">
// do not.
func answers(v bxml.Verb) bool {
	switch v := v.(type) {
	case *bxml.Tag, *bxml.Redirect, *bxml.StartGather, *bxml.StopGather, *bxml.Hangup, *bxml.Forward:
		return false
	case *bxml.Ring:
		return v.AnswerCall == nil || *v.AnswerCall
	}
	return true
}

// answerInbound answers the inbound call.
func (s *callState) answerInbound(now time.Time) []action {
	s.call.State = StateAnswered
	s.call.AnswerTime = now
	s.call.LastUpdate = now
	return []action{actAnswerLine{}, actSave{}, history(s, now, "state", "answered", nil)}
}

// hangupCause is how <Hangup> (or the end of the BXML) ends the call: an
// inbound call not yet answered is rejected.
func (s *callState) hangupCause() callback.Cause {
	if s.call.State != StateAnswered && s.call.Direction == callback.Inbound {
		return callback.CauseRejected
	}
	return callback.CauseHangup
}

// applyTag sets the call's tag from a verb's tag attribute, if given.
func (s *callState) applyTag(tag *string) {
	if tag != nil {
		s.setTag(tag)
	}
}

func (s *callState) sleep(d time.Duration) []action {
	s.wait = waitTimer
	s.timer = s.nextID()
	return []action{actTimer{s.timer, d}}
}

// play plays p and waits for it to end, as for a timer: the line plays it
// and reports PhonePlayed with the timer's id, or the actor times it by
// its Length.
func (s *callState) play(p Playback) []action {
	s.wait = waitTimer
	s.timer = s.nextID()
	p.ID = s.timer
	return []action{actPlay{p}}
}

// actPlay has the line play p; p.ID is the timer that ends the wait.
type actPlay struct{ p Playback }

func (actPlay) isAction() {}

// speechPrompt is what a SpeakSentence says, for a line that speaks.
func speechPrompt(v *bxml.SpeakSentence) Prompt {
	return Prompt{Text: strings.TrimSpace(v.Text), SSML: v.SSML, Voice: v.Voice, Locale: v.Locale, Gender: v.Gender}
}

// audioPrompts are PlayAudio verbs as a line plays them.
func audioPrompts(files []*bxml.PlayAudio) []Prompt {
	out := make([]Prompt, 0, len(files))
	for _, f := range files {
		out = append(out, Prompt{URL: f.URL, Username: f.Username, Password: f.Password})
	}
	return out
}

func (s *callState) startGatherVerb(v *bxml.Gather, now time.Time) []action {
	s.applyTag(v.Tag)
	s.gather = &gatherState{verb: v}
	s.wait = waitGather
	var files []*bxml.PlayAudio
	for _, p := range v.Prompts {
		if p, ok := p.(*bxml.PlayAudio); ok {
			files = append(files, p)
		}
	}
	if len(files) > 0 {
		// Measure the audio prompts first; the Gather goes on in measured.
		return s.playAudio(files, now)
	}
	return s.promptGather(0, now)
}

// playAudio measures audio files: a PlayAudio verb's, or a Gather's prompts.
func (s *callState) playAudio(files []*bxml.PlayAudio, now time.Time) []action {
	for _, f := range files {
		if err := checkAudioName(f.URL); err != nil {
			return s.end(now, callback.CauseApplicationError, err.Error(), 0, false)
		}
	}
	s.files = files
	if !s.media {
		return s.measured(time.Duration(len(files))*defaultAudioLength, nil, now)
	}
	if s.gather == nil {
		s.wait = waitMedia
	}
	s.measure = s.nextID()
	return []action{actMeasure{s.measure, files}}
}

// measured goes on once audio files are measured: the PlayAudio plays, or
// the Gather's prompts start.
func (s *callState) measured(length time.Duration, err error, now time.Time) []action {
	if err != nil {
		return s.end(now, callback.CauseApplicationError, err.Error(), 0, false)
	}
	if s.gather != nil && s.wait == waitGather {
		return s.promptGather(length, now)
	}
	s.played(length, "", now)
	files := s.files
	s.files = nil
	return s.play(Playback{Prompts: audioPrompts(files), What: "(an audio file)", Length: length})
}

// promptGather plays a Gather's prompts (audio already measured at audio),
// then waits for digits.
func (s *callState) promptGather(audio time.Duration, now time.Time) []action {
	v := s.gather.verb
	acts := []action{actListening{}}
	s.files = nil
	p := Playback{Repeat: max(v.RepeatCount, 1), What: "", Length: audio}
	if audio > 0 {
		p.What = "(an audio file)"
		s.played(audio, "", now)
	}
	for _, pr := range v.Prompts {
		switch pr := pr.(type) {
		case *bxml.SpeakSentence:
			// The transcriptions hear its first time through (audio
			// files, measured together, are counted before it).
			acts = append(acts, s.saidAfter(TrackOutbound, speechText(pr), p.Length, speechLength(pr), now)...)
			p.Length += speechLength(pr)
			p.Prompts = append(p.Prompts, speechPrompt(pr))
		case *bxml.PlayAudio:
			p.Prompts = append(p.Prompts, audioPrompts([]*bxml.PlayAudio{pr})...)
		}
	}
	p.Length *= time.Duration(p.Repeat)
	if len(v.Prompts) > 0 && v.RepeatCount > 1 {
		// The prompts repeat with firstDigitTimeout gaps between them.
		p.Gap = firstDigitTimeout(v)
		p.Length += time.Duration(v.RepeatCount-1) * p.Gap
	}
	if p.Length > 0 {
		s.gather.prompting = true
		s.timer = s.nextID()
		p.ID = s.timer
		return append(acts, actPlay{p})
	}
	return append(acts, s.gatherWait(now, firstDigitTimeout(v))...)
}

// gatherWait waits d for the next digit.
func (s *callState) gatherWait(now time.Time, d time.Duration) []action {
	acts := s.cancelTimer()
	s.timer = s.nextID()
	return append(acts, actTimer{s.timer, d})
}

// digit handles a key pressed at the far end.
func (s *callState) digit(d byte, now time.Time) []action {
	if s.call.State != StateAnswered {
		return nil
	}
	if g := s.gather; g != nil && s.wait == waitGather {
		if s.measure != 0 {
			return nil // the prompts are not playing yet
		}
		digit := string(d)
		if g.verb.TerminatingDigits != "" && strings.Contains(g.verb.TerminatingDigits, digit) {
			g.terminator = digit
			return s.finishGather(now)
		}
		g.digits.WriteByte(d)
		// A digit stops the prompts.
		g.prompting = false
		if g.digits.Len() >= g.verb.MaxDigits {
			return s.finishGather(now)
		}
		return s.gatherWait(now, g.verb.InterDigitTimeout)
	}
	if sg := s.startGather; sg != nil {
		ev := &callback.DTMF{Call: s.eventCall(), Digit: string(d), Transfer: s.transferFields()}
		ev.EventTime = callback.TimeOf(now)
		return []action{actNotify{Webhook{CallID: s.call.CallID, Event: ev, Timeout: s.call.CallbackTimeout,
			Target: Target{URL: sg.DTMFURL, Method: sg.DTMFMethod, Username: sg.Username, Password: sg.Password}}}}
	}
	return nil
}

// finishGather ends a Gather: its webhook, or the next verb.
func (s *callState) finishGather(now time.Time) []action {
	g := s.gather
	s.gather = nil
	acts := s.cancelTimer()
	acts = append(acts, history(s, now, "verb", fmt.Sprintf("gathered %q, terminator %q", g.digits.String(), g.terminator), nil))
	if g.verb.GatherURL == "" {
		return append(acts, s.advance(now)...)
	}
	ev := &callback.Gather{Call: s.eventCall(), Digits: g.digits.String(), TerminatingDigit: g.terminator, Transfer: s.transferFields()}
	ev.EventTime = callback.TimeOf(now)
	return append(acts, s.send(ev, Target{
		URL: g.verb.GatherURL, Method: g.verb.GatherMethod, Username: g.verb.Username, Password: g.verb.Password,
		FallbackURL: g.verb.GatherFallbackURL, FallbackMethod: g.verb.GatherFallbackMethod,
		FallbackUsername: g.verb.FallbackUsername, FallbackPassword: g.verb.FallbackPassword,
	}, now)...)
}

// speechLength is how long text-to-speech takes to say a sentence: about
// 15 characters a second (150 words a minute), at least half a second.
func speechLength(v *bxml.SpeakSentence) time.Duration {
	text := v.Text
	if v.SSML != "" {
		text = stripTags(v.SSML)
	}
	return max(audio.SpeechLength(strings.TrimSpace(text)), 500*time.Millisecond)
}

// speechText is what a SpeakSentence says, without SSML tags.
func speechText(v *bxml.SpeakSentence) string {
	if v.SSML != "" {
		return strings.TrimSpace(stripTags(v.SSML))
	}
	return strings.TrimSpace(v.Text)
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsupportedAudio lists file types PlayAudio cannot play. Others are tried
// as wav, as Bandwidth does.
var unsupportedAudio = map[string]bool{".ogg": true, ".oga": true, ".opus": true, ".flac": true, ".aac": true, ".m4a": true, ".wma": true, ".webm": true}

// defaultAudioLength is how long a file plays when no Media measures it.
const defaultAudioLength = 3 * time.Second

// checkAudioName refuses a file whose name says it cannot be played.
func checkAudioName(url string) error {
	p := url
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if ext := strings.ToLower(path.Ext(p)); unsupportedAudio[ext] {
		return fmt.Errorf("unsupported audio format %s: %s (PlayAudio plays wav and mp3)", ext, url)
	}
	return nil
}

// actSendDigits sends DTMF digits to the far end.
type actSendDigits struct{ d Digits }

func (actSendDigits) isAction() {}

// verbDetail is a verb's history detail: {"verb": name, "bxml": its XML},
// the XML with the defaults filled in and the passwords masked.
func verbDetail(v bxml.Verb) []byte {
	x, err := bxml.MarshalVerb(v)
	if err != nil {
		return nil
	}
	// The history shows the verb with its password attributes masked
	// (those of the verbs inside it too); the verb that runs keeps them.
	detail, _ := json.Marshal(map[string]string{"verb": v.VerbName(), "bxml": redact.BXMLPasswords(string(x))})
	return detail
}

// describeVerb is the history line for a verb.
func describeVerb(v bxml.Verb) string {
	switch v := v.(type) {
	case *bxml.SpeakSentence:
		text := v.Text
		if v.SSML != "" {
			text = stripTags(v.SSML)
		}
		return fmt.Sprintf("SpeakSentence %q", clip(text, 80))
	case *bxml.PlayAudio:
		return "PlayAudio " + v.URL
	case *bxml.Pause:
		return "Pause " + v.Duration.String()
	case *bxml.Redirect:
		return "Redirect " + v.RedirectURL
	case *bxml.Gather:
		return fmt.Sprintf("Gather maxDigits=%d url=%s", v.MaxDigits, v.GatherURL)
	}
	return v.VerbName()
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
