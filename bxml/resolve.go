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

// RequireAbsoluteURLs reports an error naming the first relative URL in
// the document. A REST update (PUT …/bxml) has no URL that served it, so
// its URLs must be absolute.
func (b *Bxml) RequireAbsoluteURLs() error {
	return walkURLs(b.Verbs, func(verb, attr string, u *url.URL, _ reflect.Value) error {
		if !u.IsAbs() {
			return fmt.Errorf("bxml: <%s %s>: %q is relative, but a REST update has no URL to resolve it against: give an absolute URL", verb, attr, u.String())
		}
		return nil
	})
}

func resolveAll(verbs []Verb, base string) error {
	u, err := url.Parse(base)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("bxml: base URL %q is not absolute", base)
	}
	return walkURLs(verbs, func(_, _ string, ref *url.URL, fv reflect.Value) error {
		fv.SetString(u.ResolveReference(ref).String())
		return nil
	})
}

// walkURLs calls visit for every URL attribute, and the text of PlayAudio,
// at any depth: the verb and attribute names, the parsed URL and the field
// holding it.
func walkURLs(verbs []Verb, visit func(verb, attr string, u *url.URL, fv reflect.Value) error) error {
	for _, v := range verbs {
		if v == nil || reflect.ValueOf(v).IsNil() {
			continue
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
			if err := visit(spec.name, attrName(f), ref, fv); err != nil {
				return err
			}
		}
		if spec.childField >= 0 {
			children := val.Field(spec.childField)
			var kids []Verb
			for i := range children.Len() {
				if c, ok := children.Index(i).Interface().(Verb); ok {
					kids = append(kids, c)
				}
			}
			if err := walkURLs(kids, visit); err != nil {
				return err
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
