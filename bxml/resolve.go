package bxml

import (
	"fmt"
	"net/url"
	"reflect"
)

// ResolveURLs makes every relative URL in the document absolute, resolved
// against base: the URL that served the document. It covers every URL
// attribute and the text of PlayAudio, at any depth; absolute URLs are left
// as they are. The engine calls it before running a document; apps rarely
// need to.
func (r *Response) ResolveURLs(base string) error { return resolveAll(r.Verbs, base) }

// ResolveURLs makes the document's relative URLs absolute; see
// Response.ResolveURLs.
func (b *Bxml) ResolveURLs(base string) error { return resolveAll(b.Verbs, base) }

func resolveAll(verbs []Verb, base string) error {
	u, err := url.Parse(base)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("bxml: base URL %q is not absolute", base)
	}
	for _, v := range verbs {
		if err := resolveVerb(v, u); err != nil {
			return err
		}
	}
	return nil
}

func resolveVerb(v Verb, base *url.URL) error {
	if v == nil || reflect.ValueOf(v).IsNil() {
		return nil
	}
	spec := specs[v.VerbName()]
	val := reflect.ValueOf(v).Elem()
	fields := spec.attrs
	if spec.text != nil {
		fields = append([]*field{spec.text}, fields...)
	}
	for _, f := range fields {
		if f.kind != kURL {
			continue
		}
		fv := val.Field(f.index)
		if fv.String() == "" {
			continue
		}
		ref, err := url.Parse(fv.String())
		if err != nil {
			return fmt.Errorf("bxml: <%s %s>: %q is not a URL", spec.name, attrName(f), fv.String())
		}
		fv.SetString(base.ResolveReference(ref).String())
	}
	if spec.childField >= 0 {
		children := val.Field(spec.childField)
		for i := range children.Len() {
			if c, ok := children.Index(i).Interface().(Verb); ok {
				if err := resolveVerb(c, base); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func attrName(f *field) string {
	if f.attr == "" {
		return "text"
	}
	return f.attr
}
