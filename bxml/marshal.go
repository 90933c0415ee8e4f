package bxml

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
)

// xmlDeclaration starts every marshalled document, as the official SDKs
// write it.
const xmlDeclaration = `<?xml version="1.0" encoding="UTF-8"?>`

// Marshal renders the document as the official SDKs do: the XML
// declaration, no whitespace between elements, attributes in the order the
// verb types list them, SpeakSentence SSML unescaped. It does not validate:
// call Validate for that.
func (r *Response) Marshal() ([]byte, error) { return marshal("Response", r.Verbs) }

// Marshal renders the document; see Response.Marshal.
func (b *Bxml) Marshal() ([]byte, error) { return marshal("Bxml", b.Verbs) }

// String returns the marshalled document, or the error's text.
func (r *Response) String() string { return stringOf(r.Marshal()) }

// String returns the marshalled document, or the error's text.
func (b *Bxml) String() string { return stringOf(b.Marshal()) }

func stringOf(b []byte, err error) string {
	if err != nil {
		return "bxml: " + err.Error()
	}
	return string(b)
}

// Validate checks a document built in Go as Parse checks one received:
// every value, every rule, in the given context. Errors are an ErrorList.
func (r *Response) Validate(ctx Context) error { return validate("Response", r.Verbs, ctx) }

// Validate checks the document; see Response.Validate.
func (b *Bxml) Validate(ctx Context) error { return validate("Bxml", b.Verbs, ctx) }

func validate(root string, verbs []Verb, ctx Context) error {
	data, err := marshal(root, verbs)
	if err != nil {
		return ErrorList{{Msg: err.Error()}}
	}
	if _, err := parse(data, root, ctx); err != nil {
		// Positions in the marshalled text mean nothing to the builder.
		for _, e := range err.(ErrorList) {
			e.Line, e.Column = 0, 0
		}
		return err
	}
	return nil
}

func marshal(root string, verbs []Verb) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(256)
	b.WriteString(xmlDeclaration)
	if len(verbs) == 0 {
		b.WriteString("<" + root + "/>")
		return b.Bytes(), nil
	}
	b.WriteString("<" + root + ">")
	for i, v := range verbs {
		if err := marshalVerb(&b, v); err != nil {
			return nil, fmt.Errorf("verb %d: %w", i+1, err)
		}
	}
	b.WriteString("</" + root + ">")
	return b.Bytes(), nil
}

// MarshalVerb returns one verb as XML, with no declaration or root: what
// a document holds for it. The engine keeps it in a call's history.
func MarshalVerb(v Verb) ([]byte, error) {
	var b bytes.Buffer
	if err := marshalVerb(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func marshalVerb(b *bytes.Buffer, v Verb) error {
	if v == nil || reflect.ValueOf(v).IsNil() {
		return fmt.Errorf("nil verb")
	}
	spec := specs[v.VerbName()]
	val := reflect.ValueOf(v).Elem()
	b.WriteString("<" + spec.name)
	for _, f := range spec.attrs {
		s, ok := formatValue(val.Field(f.index), f)
		if !ok {
			continue
		}
		b.WriteString(" " + f.attr + `="`)
		escape(b, s, true)
		b.WriteByte('"')
	}
	var text string
	raw := false
	if s, ok := v.(*SpeakSentence); ok {
		text = s.Text
		if s.SSML != "" {
			text, raw = s.SSML, true
		}
	} else if spec.text != nil {
		text = val.Field(spec.text.index).String()
	}
	var children reflect.Value
	if spec.childField >= 0 {
		children = val.Field(spec.childField)
	}
	if text == "" && (!children.IsValid() || children.Len() == 0) {
		b.WriteString("/>")
		return nil
	}
	b.WriteByte('>')
	if raw {
		b.WriteString(text)
	} else {
		escape(b, text, false)
	}
	if children.IsValid() {
		for i := range children.Len() {
			c, ok := children.Index(i).Interface().(Verb)
			if !ok || c == nil {
				return fmt.Errorf("<%s>: nil nested verb %d", spec.name, i+1)
			}
			if !spec.children[c.VerbName()] {
				return fmt.Errorf("<%s> cannot hold <%s> (allowed: %s)", spec.name, c.VerbName(), sortedKeys(spec.children))
			}
			if err := marshalVerb(b, c); err != nil {
				return err
			}
		}
	}
	b.WriteString("</" + spec.name + ">")
	return nil
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;",
		"\n", "&#xA;", "\r", "&#xD;", "\t", "&#x9;")
)

func escape(b *bytes.Buffer, s string, attr bool) {
	if attr {
		attrEscaper.WriteString(b, s)
	} else {
		textEscaper.WriteString(b, s)
	}
}
