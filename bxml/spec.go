package bxml

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// kind is how an attribute's text is read, checked and written.
type kind int

const (
	kString kind = iota
	kURL
	kWSS
	kMethod
	kDigits
	kDTMF
	kEnum
	kCallerID
	kPhone
	kE164
	kSIPURI
	kCallID
	kConfName
	kID
	kInt
	kSeconds
	kMillis
	kBool
)

var kindNames = map[string]kind{
	"string": kString, "url": kURL, "wss": kWSS, "method": kMethod, "digits": kDigits, "dtmf": kDTMF,
	"callerid": kCallerID, "phone": kPhone, "e164": kE164, "sipuri": kSIPURI, "callid": kCallID,
	"confname": kConfName, "id": kID, "int": kInt, "seconds": kSeconds, "millis": kMillis, "bool": kBool,
}

// field describes one attribute (or the text) of a verb.
type field struct {
	attr   string // the attribute name; "" for the text content
	index  int    // the struct field
	kind   kind
	ptr    bool // the Go field is a pointer: present or absent
	req    bool
	min    float64
	max    float64
	hasMin bool
	hasMax bool
	enum   []string
	def    string // the default, as attribute text; "" when none
}

// verbSpec describes one verb type.
type verbSpec struct {
	name  string
	typ   reflect.Type // the struct type
	text  *field
	attrs []*field // in marshalling order
	named map[string]*field
	// children: the element names allowed inside, the slice field that
	// holds them, and how many at most (0: any number).
	children    map[string]bool
	childField  int
	maxChildren int
}

// specs holds every verb and sub-element by element name.
var specs = map[string]*verbSpec{}

func register(v Verb, childField string, maxChildren int, children ...string) {
	t := reflect.TypeOf(v).Elem()
	s := &verbSpec{name: v.VerbName(), typ: t, named: map[string]*field{}, childField: -1, maxChildren: maxChildren}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Name == childField {
			s.childField = i
			continue
		}
		tag, ok := sf.Tag.Lookup("bxml")
		if !ok {
			continue
		}
		f := parseTag(t, sf, tag)
		f.index = i
		if f.attr == "" {
			s.text = f
		} else {
			s.attrs = append(s.attrs, f)
			s.named[f.attr] = f
		}
	}
	if len(children) > 0 {
		s.children = map[string]bool{}
		for _, c := range children {
			s.children[c] = true
		}
	}
	specs[s.name] = s
}

// parseTag reads a bxml struct tag; a malformed one is a programming error.
func parseTag(t reflect.Type, sf reflect.StructField, tag string) *field {
	parts := strings.Split(tag, ",")
	f := &field{attr: parts[0], ptr: sf.Type.Kind() == reflect.Pointer}
	bad := func(format string, args ...any) {
		panic(fmt.Sprintf("bxml: %s.%s: "+format, append([]any{t.Name(), sf.Name}, args...)...))
	}
	haveKind := false
	for _, p := range parts[1:] {
		key, val, _ := strings.Cut(p, "=")
		if k, ok := kindNames[key]; ok {
			f.kind, haveKind = k, true
			continue
		}
		switch key {
		case "text":
		case "req":
			f.req = true
		case "enum":
			f.kind, haveKind = kEnum, true
			f.enum = strings.Split(val, "|")
		case "min", "max":
			n, err := strconv.ParseFloat(val, 64)
			if err != nil {
				bad("bad %s %q", key, val)
			}
			if key == "min" {
				f.min, f.hasMin = n, true
			} else {
				f.max, f.hasMax = n, true
			}
		case "default":
			f.def = val
		default:
			bad("unknown tag option %q", key)
		}
	}
	if !haveKind {
		bad("no kind in tag %q", tag)
	}
	if f.kind == kMethod && f.def == "" {
		f.def = "POST"
	}
	base := sf.Type
	if f.ptr {
		base = base.Elem()
	}
	want := reflect.String
	switch f.kind {
	case kInt:
		want = reflect.Int
	case kSeconds, kMillis:
		if base != reflect.TypeFor[time.Duration]() {
			bad("seconds and millis need a time.Duration")
		}
		want = reflect.Int64
	case kBool:
		want = reflect.Bool
	}
	if base.Kind() != want {
		bad("kind needs a %s, have %s", want, base)
	}
	return f
}

func init() {
	register(&Bridge{}, "", 0)
	register(&Conference{}, "", 0)
	register(&Connect{}, "Endpoints", 0, "Endpoint")
	register(&Endpoint{}, "", 0)
	register(&Forward{}, "", 0)
	register(&Gather{}, "Prompts", MaxPrompts, "SpeakSentence", "PlayAudio")
	register(&Hangup{}, "", 0)
	register(&Pause{}, "", 0)
	register(&PauseRecording{}, "", 0)
	register(&PlayAudio{}, "", 0)
	register(&Record{}, "", 0)
	register(&Redirect{}, "", 0)
	register(&ResumeRecording{}, "", 0)
	register(&Ring{}, "", 0)
	register(&SendDtmf{}, "", 0)
	register(&SpeakSentence{}, "", 0)
	register(&StartGather{}, "", 0)
	register(&StartRecording{}, "", 0)
	register(&StartStream{}, "Params", MaxParams, "StreamParam")
	register(&StreamParam{}, "", 0)
	register(&StopGather{}, "", 0)
	register(&StopRecording{}, "", 0)
	register(&StopStream{}, "", 0)
	register(&StartTranscription{}, "Params", MaxParams, "CustomParam")
	register(&CustomParam{}, "", 0)
	register(&StopTranscription{}, "", 0)
	register(&Tag{}, "", 0)
	register(&Transfer{}, "Targets", MaxTransferTargets, "PhoneNumber", "SipUri")
	register(&PhoneNumber{}, "", 0)
	register(&SipUri{}, "", 0)
}

// topLevel lists the verbs that may stand directly in a document, as
// opposed to the elements that exist only inside another verb.
var topLevel = map[string]bool{
	"Bridge": true, "Conference": true, "Connect": true, "Forward": true, "Gather": true, "Hangup": true,
	"Pause": true, "PauseRecording": true, "PlayAudio": true, "Record": true, "Redirect": true,
	"ResumeRecording": true, "Ring": true, "SendDtmf": true, "SpeakSentence": true, "StartGather": true,
	"StartRecording": true, "StartStream": true, "StopGather": true, "StopRecording": true,
	"StopStream": true, "StartTranscription": true, "StopTranscription": true, "Tag": true, "Transfer": true,
}

// The VerbName methods.

func (*Bridge) VerbName() string             { return "Bridge" }
func (*Conference) VerbName() string         { return "Conference" }
func (*Connect) VerbName() string            { return "Connect" }
func (*Endpoint) VerbName() string           { return "Endpoint" }
func (*Forward) VerbName() string            { return "Forward" }
func (*Gather) VerbName() string             { return "Gather" }
func (*Hangup) VerbName() string             { return "Hangup" }
func (*Pause) VerbName() string              { return "Pause" }
func (*PauseRecording) VerbName() string     { return "PauseRecording" }
func (*PlayAudio) VerbName() string          { return "PlayAudio" }
func (*Record) VerbName() string             { return "Record" }
func (*Redirect) VerbName() string           { return "Redirect" }
func (*ResumeRecording) VerbName() string    { return "ResumeRecording" }
func (*Ring) VerbName() string               { return "Ring" }
func (*SendDtmf) VerbName() string           { return "SendDtmf" }
func (*SpeakSentence) VerbName() string      { return "SpeakSentence" }
func (*StartGather) VerbName() string        { return "StartGather" }
func (*StartRecording) VerbName() string     { return "StartRecording" }
func (*StartStream) VerbName() string        { return "StartStream" }
func (*StreamParam) VerbName() string        { return "StreamParam" }
func (*StopGather) VerbName() string         { return "StopGather" }
func (*StopRecording) VerbName() string      { return "StopRecording" }
func (*StopStream) VerbName() string         { return "StopStream" }
func (*StartTranscription) VerbName() string { return "StartTranscription" }
func (*CustomParam) VerbName() string        { return "CustomParam" }
func (*StopTranscription) VerbName() string  { return "StopTranscription" }
func (*Tag) VerbName() string                { return "Tag" }
func (*Transfer) VerbName() string           { return "Transfer" }
func (*PhoneNumber) VerbName() string        { return "PhoneNumber" }
func (*SipUri) VerbName() string             { return "SipUri" }

func (*Bridge) verb()             {}
func (*Conference) verb()         {}
func (*Connect) verb()            {}
func (*Endpoint) verb()           {}
func (*Forward) verb()            {}
func (*Gather) verb()             {}
func (*Hangup) verb()             {}
func (*Pause) verb()              {}
func (*PauseRecording) verb()     {}
func (*PlayAudio) verb()          {}
func (*Record) verb()             {}
func (*Redirect) verb()           {}
func (*ResumeRecording) verb()    {}
func (*Ring) verb()               {}
func (*SendDtmf) verb()           {}
func (*SpeakSentence) verb()      {}
func (*StartGather) verb()        {}
func (*StartRecording) verb()     {}
func (*StartStream) verb()        {}
func (*StreamParam) verb()        {}
func (*StopGather) verb()         {}
func (*StopRecording) verb()      {}
func (*StopStream) verb()         {}
func (*StartTranscription) verb() {}
func (*CustomParam) verb()        {}
func (*StopTranscription) verb()  {}
func (*Tag) verb()                {}
func (*Transfer) verb()           {}
func (*PhoneNumber) verb()        {}
func (*SipUri) verb()             {}
