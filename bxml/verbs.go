package bxml

import "time"

// Each verb is a struct whose fields are its attributes. The bxml struct
// tag drives parsing, validation and marshalling alike, so the three cannot
// drift apart:
//
//	bxml:"name,kind[,option…]"
//
// kinds: url (absolute http(s) or relative; 2048 bytes at most), wss (a
// WebSocket URL), method (GET or POST), string, digits (terminating DTMF
// digits), dtmf (digits and pauses to send), enum=a|b|c, callerid (E.164 or
// a caller-id keyword), phone (E.164 or SIP URI), e164, sipuri, callid,
// confname, id (not blank), int, seconds and millis (a time.Duration written
// as a decimal number of that unit), bool. "text" marks the field that holds
// the verb's text content instead of an attribute. Options: req (required), min=, max= (numbers: range, in
// the field's unit; strings: length), default= (documentation only: absent
// attributes stay absent).
//
// Optional attributes whose zero value means something other than absent
// are pointers (Tag: "" clears the tag; FirstDigitTimeout: 0 is no wait;
// Record.TerminatingDigits: "" disables; Ring.AnswerCall and
// StartTranscription.Stabilized default to true). With Go 1.26, write them
// as new(""), new(0*time.Second), new(false).

// Verb is one BXML verb: a pointer to one of the verb types of this package.
type Verb interface {
	// VerbName is the verb's element name, such as "Gather".
	VerbName() string
	verb()
}

// Bridge connects the call to another call, named by its call id.
type Bridge struct {
	// TargetCall is the call id to bridge with.
	TargetCall                         string  `bxml:",text,callid,req"`
	BridgeCompleteURL                  string  `bxml:"bridgeCompleteUrl,url"`
	BridgeCompleteMethod               string  `bxml:"bridgeCompleteMethod,method"`
	BridgeCompleteFallbackURL          string  `bxml:"bridgeCompleteFallbackUrl,url"`
	BridgeCompleteFallbackMethod       string  `bxml:"bridgeCompleteFallbackMethod,method"`
	BridgeTargetCompleteURL            string  `bxml:"bridgeTargetCompleteUrl,url"`
	BridgeTargetCompleteMethod         string  `bxml:"bridgeTargetCompleteMethod,method"`
	BridgeTargetCompleteFallbackURL    string  `bxml:"bridgeTargetCompleteFallbackUrl,url"`
	BridgeTargetCompleteFallbackMethod string  `bxml:"bridgeTargetCompleteFallbackMethod,method"`
	Username                           string  `bxml:"username,string,max=1024"`
	Password                           string  `bxml:"password,string,max=1024"`
	FallbackUsername                   string  `bxml:"fallbackUsername,string,max=1024"`
	FallbackPassword                   string  `bxml:"fallbackPassword,string,max=1024"`
	Tag                                *string `bxml:"tag,string,max=256"`
}

// Conference puts the call in a conference, created on first use.
type Conference struct {
	// Name is up to 100 letters, digits, '-', '_' and '.'.
	Name string `bxml:",text,confname,req"`
	Mute bool   `bxml:"mute,bool,default=false"`
	Hold bool   `bxml:"hold,bool,default=false"`
	// CallIDsToCoach is a comma-separated list of call ids this member coaches.
	CallIDsToCoach                string        `bxml:"callIdsToCoach,string"`
	ConferenceEventURL            string        `bxml:"conferenceEventUrl,url"`
	ConferenceEventMethod         string        `bxml:"conferenceEventMethod,method"`
	ConferenceEventFallbackURL    string        `bxml:"conferenceEventFallbackUrl,url"`
	ConferenceEventFallbackMethod string        `bxml:"conferenceEventFallbackMethod,method"`
	Username                      string        `bxml:"username,string,max=1024"`
	Password                      string        `bxml:"password,string,max=1024"`
	FallbackUsername              string        `bxml:"fallbackUsername,string,max=1024"`
	FallbackPassword              string        `bxml:"fallbackPassword,string,max=1024"`
	Tag                           *string       `bxml:"tag,string,max=256"`
	CallbackTimeout               time.Duration `bxml:"callbackTimeout,seconds,min=1,max=25"`
}

// Connect (beta) connects the call to BRTC endpoints.
type Connect struct {
	EventCallbackURL string `bxml:"eventCallbackUrl,url"`
	EventFallbackURL string `bxml:"eventFallbackUrl,url"`
	Endpoints        []*Endpoint
}

// Endpoint is a BRTC endpoint inside <Connect>.
type Endpoint struct {
	ID string `bxml:",text,id,req"`
}

// Forward forwards an unanswered inbound call to another number. The
// application loses control of the call.
type Forward struct {
	To string `bxml:"to,phone,req"`
	// From defaults to the original call's to.
	From        string        `bxml:"from,callerid"`
	CallTimeout time.Duration `bxml:"callTimeout,seconds,min=1,max=300,default=30"`
	// DiversionTreatment is none (default), propagate or stack.
	DiversionTreatment string `bxml:"diversionTreatment,enum=none|propagate|stack"`
	// DiversionReason applies with stack only; without it, it is accepted
	// and does nothing, as on Bandwidth's hosted API.
	DiversionReason string `bxml:"diversionReason,enum=unknown|user-busy|no-answer|unavailable|unconditional|time-of-day|do-not-disturb|deflection|follow-me|out-of-service|away"`
	UUI             string `bxml:"uui,string,max=256"`
	// Privacy hides the caller's number; CallerDisplayName is then one of
	// the caller-id keywords (official SDKs).
	Privacy           bool   `bxml:"privacy,bool,default=false"`
	CallerDisplayName string `bxml:"callerDisplayName,string,max=256"`
}

// Gather collects digits, optionally while prompts play.
type Gather struct {
	GatherURL            string  `bxml:"gatherUrl,url"`
	GatherMethod         string  `bxml:"gatherMethod,method"`
	GatherFallbackURL    string  `bxml:"gatherFallbackUrl,url"`
	GatherFallbackMethod string  `bxml:"gatherFallbackMethod,method"`
	Username             string  `bxml:"username,string,max=1024"`
	Password             string  `bxml:"password,string,max=1024"`
	FallbackUsername     string  `bxml:"fallbackUsername,string,max=1024"`
	FallbackPassword     string  `bxml:"fallbackPassword,string,max=1024"`
	Tag                  *string `bxml:"tag,string,max=256"`
	// TerminatingDigits end the gather when pressed; "" (the default)
	// disables them.
	TerminatingDigits string `bxml:"terminatingDigits,digits"`
	MaxDigits         int    `bxml:"maxDigits,int,min=1,max=50,default=50"`
	// InterDigitTimeout ends the gather after a digit when no other follows.
	InterDigitTimeout time.Duration `bxml:"interDigitTimeout,seconds,min=1,max=60,default=5"`
	// FirstDigitTimeout ends the gather when no digit is pressed after the
	// prompts end. nil means the default, 5 s.
	FirstDigitTimeout *time.Duration `bxml:"firstDigitTimeout,seconds,min=0,max=60,default=5"`
	// RepeatCount plays the prompts this many times.
	RepeatCount int `bxml:"repeatCount,int,min=1,max=20,default=1"`
	// Prompts play while the gather waits: *SpeakSentence and *PlayAudio.
	Prompts []Verb
}

// Hangup ends the call (or rejects an unanswered inbound call).
type Hangup struct{}

// Pause waits.
type Pause struct {
	Duration time.Duration `bxml:"duration,seconds,min=0.1,max=86400,default=1"`
}

// PauseRecording pauses the recording that StartRecording started.
type PauseRecording struct{}

// PlayAudio plays an audio file (wav or mp3).
type PlayAudio struct {
	// URL is the audio file, absolute or relative.
	URL      string `bxml:",text,url,req"`
	Username string `bxml:"username,string,max=1024"`
	Password string `bxml:"password,string,max=1024"`
}

// Record records the caller until a terminating digit, silence or the
// maximum duration.
type Record struct {
	RecordCompleteURL            string  `bxml:"recordCompleteUrl,url"`
	RecordCompleteMethod         string  `bxml:"recordCompleteMethod,method"`
	RecordCompleteFallbackURL    string  `bxml:"recordCompleteFallbackUrl,url"`
	RecordCompleteFallbackMethod string  `bxml:"recordCompleteFallbackMethod,method"`
	RecordingAvailableURL        string  `bxml:"recordingAvailableUrl,url"`
	RecordingAvailableMethod     string  `bxml:"recordingAvailableMethod,method"`
	Transcribe                   bool    `bxml:"transcribe,bool,default=false"`
	TranscriptionAvailableURL    string  `bxml:"transcriptionAvailableUrl,url"`
	TranscriptionAvailableMethod string  `bxml:"transcriptionAvailableMethod,method"`
	Username                     string  `bxml:"username,string,max=1024"`
	Password                     string  `bxml:"password,string,max=1024"`
	FallbackUsername             string  `bxml:"fallbackUsername,string,max=1024"`
	FallbackPassword             string  `bxml:"fallbackPassword,string,max=1024"`
	Tag                          *string `bxml:"tag,string,max=256"`
	// TerminatingDigits end the recording; nil means the default "#", and
	// a pointer to "" disables them.
	TerminatingDigits *string       `bxml:"terminatingDigits,digits,default=#"`
	MaxDuration       time.Duration `bxml:"maxDuration,seconds,min=1,max=10800,default=60"`
	// SilenceTimeout ends the recording after this much silence; 0 (the
	// default) never does.
	SilenceTimeout time.Duration `bxml:"silenceTimeout,seconds,min=0,max=10800,default=0"`
	FileFormat     string        `bxml:"fileFormat,enum=wav|mp3,default=wav"`
	DetectLanguage bool          `bxml:"detectLanguage,bool,default=false"`
	// RecordingName names the recording (official SDKs; not on the BXML page).
	RecordingName string `bxml:"recordingName,string,max=256"`
}

// Redirect fetches new BXML from redirectUrl and runs it.
type Redirect struct {
	RedirectURL            string  `bxml:"redirectUrl,url,req"`
	RedirectMethod         string  `bxml:"redirectMethod,method"`
	RedirectFallbackURL    string  `bxml:"redirectFallbackUrl,url"`
	RedirectFallbackMethod string  `bxml:"redirectFallbackMethod,method"`
	Username               string  `bxml:"username,string,max=1024"`
	Password               string  `bxml:"password,string,max=1024"`
	FallbackUsername       string  `bxml:"fallbackUsername,string,max=1024"`
	FallbackPassword       string  `bxml:"fallbackPassword,string,max=1024"`
	Tag                    *string `bxml:"tag,string,max=256"`
}

// ResumeRecording resumes a paused recording.
type ResumeRecording struct{}

// Ring plays ringback for a while.
type Ring struct {
	Duration time.Duration `bxml:"duration,seconds,min=0.1,max=86400,default=5"`
	// AnswerCall false keeps an unanswered inbound call unanswered while
	// ringing; nil means the default, true.
	AnswerCall *bool `bxml:"answerCall,bool,default=true"`
}

// SendDtmf plays DTMF tones.
type SendDtmf struct {
	// Digits are 0-9, *, #, a-d and A-D; ',' and 'w' pause 0.5 s, 'W' 1 s.
	Digits       string        `bxml:",text,dtmf,req,max=50"`
	ToneDuration time.Duration `bxml:"toneDuration,millis,min=50,max=5000,default=200"`
	ToneInterval time.Duration `bxml:"toneInterval,millis,min=50,max=5000,default=400"`
}

// SpeakSentence speaks text, or SSML markup, with text-to-speech.
type SpeakSentence struct {
	// Text is plain text; it is escaped when marshalled.
	Text string
	// SSML is text with SSML tags (<break time="1s"/>, <prosody>…),
	// written as it is, unescaped, as the official SDKs do. Parsing puts
	// content with tags here, byte for byte, and content without in Text.
	// Set one of Text and SSML.
	SSML string
	// Voice overrides Gender and Locale.
	Voice  string `bxml:"voice,string"`
	Gender string `bxml:"gender,enum=female|male,default=female"`
	Locale string `bxml:"locale,string,default=en_US"`
}

// StartGather reports every digit pressed to dtmfUrl, without blocking.
type StartGather struct {
	DTMFURL    string  `bxml:"dtmfUrl,url,req"`
	DTMFMethod string  `bxml:"dtmfMethod,method"`
	Username   string  `bxml:"username,string,max=1024"`
	Password   string  `bxml:"password,string,max=1024"`
	Tag        *string `bxml:"tag,string,max=256"`
}

// StartRecording records the call in the background.
type StartRecording struct {
	RecordingAvailableURL        string  `bxml:"recordingAvailableUrl,url"`
	RecordingAvailableMethod     string  `bxml:"recordingAvailableMethod,method"`
	Transcribe                   bool    `bxml:"transcribe,bool,default=false"`
	TranscriptionAvailableURL    string  `bxml:"transcriptionAvailableUrl,url"`
	TranscriptionAvailableMethod string  `bxml:"transcriptionAvailableMethod,method"`
	Username                     string  `bxml:"username,string,max=1024"`
	Password                     string  `bxml:"password,string,max=1024"`
	Tag                          *string `bxml:"tag,string,max=256"`
	FileFormat                   string  `bxml:"fileFormat,enum=wav|mp3,default=wav"`
	// MultiChannel records the caller and the played audio on two channels.
	MultiChannel   bool   `bxml:"multiChannel,bool,default=false"`
	DetectLanguage bool   `bxml:"detectLanguage,bool,default=false"`
	RecordingName  string `bxml:"recordingName,string,max=256"`
}

// StartStream streams the call's audio to a WebSocket.
type StartStream struct {
	// Name defaults to the stream id; it must be unique on the call.
	Name   string `bxml:"name,string"`
	Mode   string `bxml:"mode,enum=unidirectional|bidirectional,default=unidirectional"`
	Tracks string `bxml:"tracks,enum=inbound|outbound|both,default=inbound"`
	// Destination is the wss:// URL of the WebSocket.
	Destination string `bxml:"destination,wss,req"`
	// DestinationUsername and DestinationPassword authenticate the
	// WebSocket connection.
	DestinationUsername string `bxml:"destinationUsername,string,max=1024"`
	DestinationPassword string `bxml:"destinationPassword,string,max=1024"`
	StreamEventURL      string `bxml:"streamEventUrl,url"`
	StreamEventMethod   string `bxml:"streamEventMethod,method"`
	Username            string `bxml:"username,string,max=1024"`
	Password            string `bxml:"password,string,max=1024"`
	// Params are sent in the stream's start message; 12 at most.
	Params []*StreamParam
}

// StreamParam is a name and value sent when a stream starts.
type StreamParam struct {
	Name  string `bxml:"name,string,req,max=256"`
	Value string `bxml:"value,string,req,max=256"`
}

// StopGather stops a StartGather.
type StopGather struct{}

// StopRecording stops the recording.
type StopRecording struct{}

// StopStream stops a stream by name.
type StopStream struct {
	Name string `bxml:"name,string,req"`
	// Wait blocks until the stream has stopped.
	Wait bool `bxml:"wait,bool,default=false"`
}

// StartTranscription transcribes the call in real time.
type StartTranscription struct {
	Name                     string `bxml:"name,string"`
	Tracks                   string `bxml:"tracks,enum=inbound|outbound|both,default=inbound"`
	TranscriptionEventURL    string `bxml:"transcriptionEventUrl,url"`
	TranscriptionEventMethod string `bxml:"transcriptionEventMethod,method"`
	Username                 string `bxml:"username,string,max=1024"`
	Password                 string `bxml:"password,string,max=1024"`
	// Destination is a wss:// URL that receives the transcription.
	Destination string `bxml:"destination,wss"`
	// Stabilized needs a Destination; nil means the default, true.
	Stabilized *bool `bxml:"stabilized,bool,default=true"`
	// DetectLanguage and PreferredLanguages (comma-separated, such as
	// "en-US,es-US") come from the official SDKs.
	DetectLanguage     bool   `bxml:"detectLanguage,bool,default=false"`
	PreferredLanguages string `bxml:"preferredLanguages,string,max=256"`
	// Params are custom parameters; 12 at most.
	Params []*CustomParam
}

// CustomParam is a name and value of a StartTranscription.
type CustomParam struct {
	Name  string `bxml:"name,string,req,max=256"`
	Value string `bxml:"value,string,req,max=256"`
}

// StopTranscription stops one real-time transcription, or all of them when
// Name is empty.
type StopTranscription struct {
	Name string `bxml:"name,string"`
}

// Tag sets the call's tag; blank text clears it.
type Tag struct {
	Value string `bxml:",text,string,max=256"`
}

// Transfer calls one to eight numbers or SIP URIs at once and bridges the
// first that answers.
type Transfer struct {
	// TransferCallerID is the B-legs' from: E.164 or a caller-id keyword;
	// empty passes the caller's number.
	TransferCallerID               string        `bxml:"transferCallerId,callerid"`
	TransferCallerDisplayName      string        `bxml:"transferCallerDisplayName,string,max=256"`
	CallTimeout                    time.Duration `bxml:"callTimeout,seconds,min=1,max=300,default=30"`
	TransferCompleteURL            string        `bxml:"transferCompleteUrl,url"`
	TransferCompleteMethod         string        `bxml:"transferCompleteMethod,method"`
	TransferCompleteFallbackURL    string        `bxml:"transferCompleteFallbackUrl,url"`
	TransferCompleteFallbackMethod string        `bxml:"transferCompleteFallbackMethod,method"`
	Username                       string        `bxml:"username,string,max=1024"`
	Password                       string        `bxml:"password,string,max=1024"`
	FallbackUsername               string        `bxml:"fallbackUsername,string,max=1024"`
	FallbackPassword               string        `bxml:"fallbackPassword,string,max=1024"`
	Tag                            *string       `bxml:"tag,string,max=256"`
	DiversionTreatment             string        `bxml:"diversionTreatment,enum=none|propagate|stack"`
	// DiversionReason applies with stack only, as Forward's does.
	DiversionReason string `bxml:"diversionReason,enum=unknown|user-busy|no-answer|unavailable|unconditional|time-of-day|do-not-disturb|deflection|follow-me|out-of-service|away"`
	// Privacy hides the caller's number from the B-legs (official SDKs).
	Privacy bool `bxml:"privacy,bool,default=false"`
	// Targets are *PhoneNumber and *SipUri; 1 to 8.
	Targets []Verb
}

// PhoneNumber is a Transfer target.
type PhoneNumber struct {
	// Number is E.164.
	Number                       string  `bxml:",text,e164,req"`
	TransferAnswerURL            string  `bxml:"transferAnswerUrl,url"`
	TransferAnswerMethod         string  `bxml:"transferAnswerMethod,method"`
	TransferAnswerFallbackURL    string  `bxml:"transferAnswerFallbackUrl,url"`
	TransferAnswerFallbackMethod string  `bxml:"transferAnswerFallbackMethod,method"`
	TransferDisconnectURL        string  `bxml:"transferDisconnectUrl,url"`
	TransferDisconnectMethod     string  `bxml:"transferDisconnectMethod,method"`
	Username                     string  `bxml:"username,string,max=1024"`
	Password                     string  `bxml:"password,string,max=1024"`
	FallbackUsername             string  `bxml:"fallbackUsername,string,max=1024"`
	FallbackPassword             string  `bxml:"fallbackPassword,string,max=1024"`
	Tag                          *string `bxml:"tag,string,max=256"`
	// UUI is a User-To-User value with its ;encoding= (base64 or jwt).
	UUI string `bxml:"uui,string,max=256"`
}

// SipUri is a Transfer target.
type SipUri struct {
	// URI is sip:user@host.
	URI string `bxml:",text,sipuri,req"`
	// UUI is a User-To-User value with its ;encoding= (base64 or jwt). The
	// SDKs write it first on SipUri, last on PhoneNumber.
	UUI                          string  `bxml:"uui,string,max=256"`
	TransferAnswerURL            string  `bxml:"transferAnswerUrl,url"`
	TransferAnswerMethod         string  `bxml:"transferAnswerMethod,method"`
	TransferAnswerFallbackURL    string  `bxml:"transferAnswerFallbackUrl,url"`
	TransferAnswerFallbackMethod string  `bxml:"transferAnswerFallbackMethod,method"`
	TransferDisconnectURL        string  `bxml:"transferDisconnectUrl,url"`
	TransferDisconnectMethod     string  `bxml:"transferDisconnectMethod,method"`
	Username                     string  `bxml:"username,string,max=1024"`
	Password                     string  `bxml:"password,string,max=1024"`
	FallbackUsername             string  `bxml:"fallbackUsername,string,max=1024"`
	FallbackPassword             string  `bxml:"fallbackPassword,string,max=1024"`
	Tag                          *string `bxml:"tag,string,max=256"`
}
