package bxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Limits. A document over MaxSize is refused before it is parsed; the
// others are checked while parsing, so that nothing an app sends can make
// the parser work or allocate without bound.
const (
	// MaxSize is the largest document accepted, 64 KB, Bandwidth's limit.
	MaxSize = 64 << 10
	// MaxElements caps the elements of a document, verbs and SSML tags.
	MaxElements = 2000
	// MaxDepth caps how deep elements nest.
	MaxDepth = 32
	// MaxPrompts caps the SpeakSentence and PlayAudio verbs of a Gather.
	MaxPrompts = 20
	// MaxTransferTargets caps the PhoneNumber and SipUri of a Transfer.
	MaxTransferTargets = 8
	// MaxParams caps the StreamParam and CustomParam of a verb.
	MaxParams = 12
)

// Response is a document returned to a webhook: root <Response>. An empty
// Response hangs up.
type Response struct {
	Verbs []Verb
}

// Bxml is a document sent to update a call or conference over REST (PUT
// …/bxml): root <Bxml>.
type Bxml struct {
	Verbs []Verb
}

// NewResponse returns a Response of the given verbs.
func NewResponse(verbs ...Verb) *Response { return &Response{Verbs: verbs} }

// NewBxml returns a Bxml of the given verbs.
func NewBxml(verbs ...Verb) *Bxml { return &Bxml{Verbs: verbs} }

// Context says where a document will run; some verbs are allowed only in
// some contexts.
type Context int

const (
	// CallContext is a document that runs on a call: every verb is allowed.
	CallContext Context = iota
	// ConferenceContext is a reply to a conference event, or a conference
	// update: only PlayAudio, SpeakSentence, StartRecording,
	// StopRecording, PauseRecording and ResumeRecording.
	ConferenceContext
	// TransferAnswerContext is a reply to transferAnswer, run on the
	// B-leg: no Bridge, Conference, Forward, Transfer, or the streaming,
	// transcription and Connect verbs.
	TransferAnswerContext
)

func (c Context) String() string {
	switch c {
	case CallContext:
		return "a call"
	case ConferenceContext:
		return "a conference"
	case TransferAnswerContext:
		return "a transferAnswer reply"
	}
	return fmt.Sprintf("Context(%d)", int(c))
}

// allowed lists the verbs each restricted context allows.
var allowed = map[Context]map[string]bool{
	ConferenceContext: {"PlayAudio": true, "SpeakSentence": true, "StartRecording": true,
		"StopRecording": true, "PauseRecording": true, "ResumeRecording": true},
	TransferAnswerContext: {"Gather": true, "Hangup": true, "Pause": true, "PauseRecording": true,
		"PlayAudio": true, "Record": true, "Redirect": true, "ResumeRecording": true, "Ring": true,
		"SendDtmf": true, "SpeakSentence": true, "StartGather": true, "StartRecording": true,
		"StopGather": true, "StopRecording": true, "Tag": true},
}

// Parse reads a webhook reply, root <Response>, and validates all of it for
// ctx before returning. Errors are an ErrorList.
func Parse(data []byte, ctx Context) (*Response, error) {
	verbs, err := parse(data, "Response", ctx)
	if err != nil {
		return nil, err
	}
	return &Response{Verbs: verbs}, nil
}

// ParseUpdate reads a REST update, root <Bxml>, and validates all of it
// for ctx before returning. Errors are an ErrorList. A <Response> root is
// accepted too, as Bandwidth's hosted API accepts it: the verbs are the
// same.
func ParseUpdate(data []byte, ctx Context) (*Bxml, error) {
	verbs, err := parse(data, "Bxml", ctx)
	if err != nil {
		return nil, err
	}
	return &Bxml{Verbs: verbs}, nil
}

// frame is an open element.
type frame struct {
	name      string
	spec      *verbSpec     // nil for the root, SSML and skipped elements
	val       reflect.Value // the verb's struct
	line, col int
	text      []byte
	ssmlStart int64 // SpeakSentence: where its content starts
	hasSSML   bool  // SpeakSentence: it holds SSML elements
	ssml      bool  // an SSML element inside a SpeakSentence
	skip      bool  // an element already reported: ignore it and its content
}

type parser struct {
	data   []byte
	ctx    Context
	dec    *xml.Decoder
	errs   ErrorList
	stack  []*frame
	verbs  []Verb
	pos    [][2]int // positions of the top-level verbs
	count  int
	root   string
	closed bool // the root element has ended
}

func (p *parser) fail(line, col int, verb, attr, format string, args ...any) {
	p.errs = append(p.errs, &Error{Line: line, Column: col, Verb: verb, Attr: attr, Msg: fmt.Sprintf(format, args...)})
}

func parse(data []byte, root string, ctx Context) ([]Verb, error) {
	if len(data) > MaxSize {
		return nil, ErrorList{{Msg: fmt.Sprintf("%d bytes; the limit is %d", len(data), MaxSize), Err: ErrTooLarge}}
	}
	if !utf8.Valid(data) {
		line, col := position(data, invalidUTF8At(data))
		return nil, ErrorList{{Line: line, Column: col, Msg: "invalid UTF-8", Err: ErrSyntax}}
	}
	if enc := declaredEncoding(data); enc != "" && !strings.EqualFold(enc, "UTF-8") && !strings.EqualFold(enc, "UTF8") {
		return nil, ErrorList{{Line: 1, Column: 1, Msg: fmt.Sprintf("encoding %q is not supported: BXML must be UTF-8", enc), Err: ErrSyntax}}
	}
	p := &parser{data: data, ctx: ctx, root: root, dec: xml.NewDecoder(bytes.NewReader(data))}
	p.dec.Strict = true
	if err := p.run(); err != nil {
		return nil, append(p.errs, err.(*Error))
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	p.checkDocument()
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	if p.verbs == nil {
		p.verbs = []Verb{}
	}
	return p.verbs, nil
}

// run reads the tokens. It returns an *Error for a problem that stops
// parsing; other problems are collected in p.errs.
func (p *parser) run() error {
	seenRoot := false
	for {
		line, col := p.dec.InputPos()
		before := p.dec.InputOffset()
		tok, err := p.dec.Token()
		if err == io.EOF {
			if !seenRoot {
				return &Error{Msg: fmt.Sprintf("empty document: want a <%s> root", p.root), Err: ErrSyntax}
			}
			return nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return &Error{Line: se.Line, Column: col, Msg: "malformed XML: " + se.Msg, Err: ErrSyntax}
			}
			return &Error{Line: line, Column: col, Msg: "malformed XML: " + strings.TrimPrefix(err.Error(), "xml: "), Err: ErrSyntax}
		}
		switch t := tok.(type) {
		case xml.Directive:
			return &Error{Line: line, Column: col, Msg: ErrDTD.Error(), Err: ErrDTD}
		case xml.ProcInst:
			if t.Target != "xml" || before != 0 {
				return &Error{Line: line, Column: col, Msg: fmt.Sprintf("processing instruction <?%s?> is not allowed", t.Target), Err: ErrSyntax}
			}
		case xml.Comment:
		case xml.CharData:
			p.charData(t, line, col)
		case xml.StartElement:
			if p.closed || (!seenRoot && len(p.stack) > 0) {
				return &Error{Line: line, Column: col, Msg: "a document has one root element", Err: ErrSyntax}
			}
			if p.count++; p.count > MaxElements {
				return &Error{Line: line, Column: col, Msg: fmt.Sprintf("more than %d elements", MaxElements), Err: ErrLimit}
			}
			if len(p.stack) >= MaxDepth {
				return &Error{Line: line, Column: col, Msg: fmt.Sprintf("elements nest deeper than %d", MaxDepth), Err: ErrLimit}
			}
			if !seenRoot {
				seenRoot = true
				if err := p.startRoot(t, line, col); err != nil {
					return err
				}
				continue
			}
			p.start(t, line, col)
		case xml.EndElement:
			p.end(before)
		}
	}
}

func (p *parser) startRoot(t xml.StartElement, line, col int) error {
	if p.root == "Bxml" && t.Name.Local == "Response" && t.Name.Space == "" {
		// An update in a webhook reply's clothes: the hosted API takes it.
		p.root = "Response"
	}
	if p.root == "Bxml" && (t.Name.Local != p.root || t.Name.Space != "") {
		return &Error{Line: line, Column: col, Msg: fmt.Sprintf("the root element is <%s>; want <Bxml> or <Response>", t.Name.Local)}
	}
	if t.Name.Local != p.root || t.Name.Space != "" {
		msg := fmt.Sprintf("the root element is <%s>; want <%s>", t.Name.Local, p.root)
		if t.Name.Local == "Bxml" {
			msg += " (a <Bxml> document is for REST updates; webhook replies use <Response>)"
		}
		return &Error{Line: line, Column: col, Msg: msg}
	}
	if len(t.Attr) > 0 {
		p.fail(line, col, p.root, t.Attr[0].Name.Local, "the root element takes no attributes")
	}
	p.stack = append(p.stack, &frame{name: p.root, line: line, col: col})
	return nil
}

// ssmlTags are the SSML elements SpeakSentence supports.
var ssmlTags = map[string]bool{"break": true, "emphasis": true, "lang": true, "p": true, "phoneme": true,
	"prosody": true, "s": true, "say-as": true, "sub": true}

func (p *parser) start(t xml.StartElement, line, col int) {
	parent := p.stack[len(p.stack)-1]
	name := t.Name.Local
	f := &frame{name: name, line: line, col: col}
	defer func() { p.stack = append(p.stack, f) }()
	switch {
	case parent.skip:
		f.skip = true
		return
	case parent.ssml || parent.name == "SpeakSentence":
		if !ssmlTags[name] {
			p.fail(line, col, "SpeakSentence", "", "SSML tag <%s> is not supported (supported: %s)", name, sortedKeys(ssmlTags))
		}
		p.ssmlOwner().hasSSML = true
		f.ssml = true
		return
	case t.Name.Space != "":
		p.fail(line, col, name, "", "namespaces are not supported")
		f.skip = true
		return
	}
	spec := specs[name]
	switch {
	case spec == nil:
		p.fail(line, col, name, "", "unknown verb")
	case len(p.stack) == 1 && !topLevel[name]:
		p.fail(line, col, name, "", "must be inside %s", insideOf(name))
		spec = nil
	case len(p.stack) > 1 && !parent.spec.children[name]:
		if parent.spec.children == nil {
			p.fail(line, col, parent.name, "", "<%s> is not allowed inside it; it takes no nested verbs", name)
		} else {
			p.fail(line, col, parent.name, "", "<%s> is not allowed inside it (allowed: %s)", name, sortedKeys(parent.spec.children))
		}
		spec = nil
	}
	if spec == nil {
		f.skip = true
		return
	}
	f.spec = spec
	f.val = reflect.New(spec.typ).Elem()
	seen := make(map[string]bool, len(t.Attr))
	for _, a := range t.Attr {
		an := a.Name.Local
		if a.Name.Space != "" {
			p.fail(line, col, name, a.Name.Space+":"+an, "namespaced attributes are not supported")
			continue
		}
		if seen[an] {
			p.fail(line, col, name, an, "given twice")
			continue
		}
		seen[an] = true
		fd := spec.named[an]
		if fd == nil {
			p.fail(line, col, name, an, "unknown attribute")
			continue
		}
		if msg := setValue(f.val.Field(fd.index), fd, a.Value); msg != "" {
			p.fail(line, col, name, an, "%s", msg)
		}
	}
	for _, fd := range spec.attrs {
		if fd.req && !seen[fd.attr] {
			p.fail(line, col, name, fd.attr, "required attribute is missing")
		}
	}
	if name == "SpeakSentence" {
		f.ssmlStart = p.dec.InputOffset()
	}
}

// ssmlOwner returns the SpeakSentence frame an SSML element belongs to.
func (p *parser) ssmlOwner() *frame {
	for i := len(p.stack) - 1; i >= 0; i-- {
		if !p.stack[i].ssml {
			return p.stack[i]
		}
	}
	return p.stack[0]
}

func (p *parser) charData(t xml.CharData, line, col int) {
	if len(p.stack) == 0 || p.closed {
		if len(bytes.TrimSpace(t)) > 0 {
			p.fail(line, col, "", "", "text outside the root element")
		}
		return
	}
	f := p.stack[len(p.stack)-1]
	switch {
	case f.skip || f.ssml: // SSML content is kept raw by its SpeakSentence
	case len(p.stack) == 1:
		if len(bytes.TrimSpace(t)) > 0 {
			p.fail(line, col, "", "", "text %q outside a verb", clip(bytes.TrimSpace(t)))
		}
	case f.spec.text != nil || f.name == "SpeakSentence":
		f.text = append(f.text, t...)
	case len(bytes.TrimSpace(t)) > 0:
		p.fail(line, col, f.name, "", "takes no text, got %q", clip(bytes.TrimSpace(t)))
	}
}

func (p *parser) end(before int64) {
	f := p.stack[len(p.stack)-1]
	p.stack = p.stack[:len(p.stack)-1]
	if len(p.stack) == 0 {
		p.closed = true
		return
	}
	if f.skip || f.ssml {
		return
	}
	if f.name == "SpeakSentence" {
		s := f.val.Addr().Interface().(*SpeakSentence)
		if f.hasSSML {
			s.SSML = string(p.data[f.ssmlStart:before])
		} else {
			s.Text = string(f.text)
		}
	} else if fd := f.spec.text; fd != nil {
		text := string(f.text)
		if fd.kind != kString {
			text = strings.TrimSpace(text)
		}
		if text == "" {
			if fd.req {
				p.fail(f.line, f.col, f.name, "", "text is required")
			}
		} else if msg := setValue(f.val.Field(fd.index), fd, text); msg != "" {
			p.fail(f.line, f.col, f.name, "", "%s", msg)
		}
	}
	v := f.val.Addr().Interface().(Verb)
	for _, msg := range checkVerb(v) {
		p.fail(f.line, f.col, f.name, msg.attr, "%s", msg.msg)
	}
	parent := p.stack[len(p.stack)-1]
	if len(p.stack) == 1 {
		p.verbs = append(p.verbs, v)
		p.pos = append(p.pos, [2]int{f.line, f.col})
		return
	}
	if parent.skip || parent.spec.childField < 0 {
		return
	}
	slice := parent.val.Field(parent.spec.childField)
	if max := parent.spec.maxChildren; max > 0 && slice.Len() == max {
		p.fail(f.line, f.col, parent.name, "", "holds more than %d %s", max, strings.ReplaceAll(sortedKeys(parent.spec.children), ", ", " and "))
		return
	}
	slice.Set(reflect.Append(slice, reflect.ValueOf(v)))
}

// checkDocument applies the rules about the document as a whole.
func (p *parser) checkDocument() {
	for i, v := range p.verbs {
		p.checkContext(v, p.pos[i][0], p.pos[i][1])
	}
	for _, msg := range checkVerbs(p.verbs) {
		p.fail(0, 0, msg.verb, msg.attr, "%s", msg.msg)
	}
}

func (p *parser) checkContext(v Verb, line, col int) {
	if ok, restricted := allowed[p.ctx]; restricted && !ok[v.VerbName()] {
		p.fail(line, col, v.VerbName(), "", "not allowed in %s (allowed: %s)", p.ctx, sortedKeys(ok))
	}
}

func insideOf(name string) string {
	for parent, s := range specs {
		if s.children[name] {
			return "<" + parent + ">"
		}
	}
	return "another verb"
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// position converts a byte offset to a line and column, counting from 1.
func position(data []byte, off int) (line, col int) {
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:off], '\n')+1:off])
	return line, col
}

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// declaredEncoding returns the encoding an XML declaration names, or "".
func declaredEncoding(data []byte) string {
	if !bytes.HasPrefix(data, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(data, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := string(data[:end])
	i := strings.Index(decl, "encoding")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || rest[0] != '"' && rest[0] != '\'' {
		return ""
	}
	if j := strings.IndexByte(rest[1:], rest[0]); j >= 0 {
		return rest[1 : 1+j]
	}
	return ""
}
