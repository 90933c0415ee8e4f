package bxml

import "reflect"

// WithDefaults returns a copy of v, and of its nested verbs, with every
// absent attribute that has a documented default set to it: a Gather gets
// MaxDigits 50, InterDigitTimeout and FirstDigitTimeout 5 s, RepeatCount 1
// and POST methods; a Record gets TerminatingDigits "#", MaxDuration 60 s
// and FileFormat wav; and so on. Attributes that are set, and attributes
// without a default (URLs, credentials, tags), are left as they are. v is not
// modified.
//
// The engine runs verbs through it so that the defaults live in one place:
// the verb types' tags.
func WithDefaults(v Verb) Verb {
	if v == nil || reflect.ValueOf(v).IsNil() {
		return v
	}
	spec := specs[v.VerbName()]
	out := reflect.New(spec.typ)
	out.Elem().Set(reflect.ValueOf(v).Elem())
	val := out.Elem()
	for _, f := range spec.attrs {
		if f.def == "" {
			continue
		}
		fv := val.Field(f.index)
		if f.ptr && !fv.IsNil() || !f.ptr && !fv.IsZero() {
			continue
		}
		if msg := setValue(fv, f, f.def); msg != "" {
			panic("bxml: bad default for " + spec.name + " " + f.attr + ": " + msg)
		}
	}
	if spec.childField >= 0 {
		children := val.Field(spec.childField)
		if children.Len() > 0 {
			copied := reflect.MakeSlice(children.Type(), children.Len(), children.Len())
			for i := range children.Len() {
				c := children.Index(i).Interface().(Verb)
				copied.Index(i).Set(reflect.ValueOf(WithDefaults(c)))
			}
			children.Set(copied)
		}
	}
	return out.Interface().(Verb)
}
