package callback

import (
	"bytes"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// The query form is how a callback travels when its method is GET: the
// docs say only that "the properties are passed as query parameters". Flat
// members are plain parameters. For nested objects and arrays, which the
// docs leave open, voicehook uses the bracket notation that Express (qs),
// PHP and Rails all parse back into the same nested shape as the JSON body:
//
//	machineDetectionResult[value]=human&machineDetectionResult[duration]=PT4.9S
//	mediaStream[tracks][]=inbound&mediaStream[tracks][]=outbound
//
// DecodeQuery also accepts dotted names (machineDetectionResult.value),
// indexed arrays (tracks[0]) and a nested object given as one JSON value
// (diversion={"origTo":"+15551234567"}).

// EncodeQuery encodes an event as query parameters, for delivery by GET.
// A nested object with a member name that brackets cannot carry (empty, or
// holding [ or ]) travels as one parameter whose value is the object's JSON.
func EncodeQuery(ev Event) (url.Values, error) {
	body, err := Encode(ev)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if err := flatten(q, "", jsontext.Value(body)); err != nil {
		return nil, &FieldError{Event: ev.Type(), Offset: -1, Err: err}
	}
	return q, nil
}

// flatten adds the parameters of the JSON value v under key.
func flatten(q url.Values, key string, v jsontext.Value) error {
	switch v.Kind() {
	case '{':
		members, err := objectMembers(v)
		if err != nil {
			return err
		}
		if len(members) == 0 { // an empty object would leave no parameter
			q.Add(key, "{}")
			return nil
		}
		if key != "" && slices.ContainsFunc(members, func(m member) bool {
			return m.name == "" || strings.ContainsAny(m.name, "[]")
		}) {
			q.Add(key, string(v))
			return nil
		}
		for _, m := range members {
			sub := m.name
			if key != "" {
				sub = key + "[" + m.name + "]"
			}
			if err := flatten(q, sub, m.value); err != nil {
				return err
			}
		}
	case '[':
		dec := jsontext.NewDecoder(bytes.NewReader(v))
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		if dec.PeekKind() == ']' {
			q.Add(key, "[]")
			return nil
		}
		for i := 0; dec.PeekKind() != ']'; i++ {
			elem, err := dec.ReadValue()
			if err != nil {
				return err
			}
			sub := key + "[]"
			if k := elem.Kind(); k == '{' || k == '[' {
				sub = key + "[" + strconv.Itoa(i) + "]"
			}
			if err := flatten(q, sub, elem.Clone()); err != nil {
				return err
			}
		}
	case 'n':
	case '"':
		s, err := jsontext.AppendUnquote(nil, v)
		if err != nil {
			return err
		}
		q.Add(key, string(s))
	default: // numbers and booleans keep their JSON text
		q.Add(key, string(v))
	}
	return nil
}

type member struct {
	name  string
	value jsontext.Value
}

// objectMembers lists the members of a JSON object in order.
func objectMembers(v jsontext.Value) ([]member, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(v))
	if _, err := dec.ReadToken(); err != nil {
		return nil, err
	}
	var out []member
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, err
		}
		name := tok.String() // before the next read voids the token
		val, err := dec.ReadValue()
		if err != nil {
			return nil, err
		}
		out = append(out, member{name, val.Clone()})
	}
	return out, nil
}

// DecodeQuery decodes the query parameters of a GET callback, as Decode does
// a JSON body, with the same errors. Known events survive EncodeQuery and
// DecodeQuery unchanged. For an Unknown event the query form cannot say
// which values were numbers or how nested names were split, so its values
// come back as strings, dotted and bracketed names as nested objects, and
// objects with numbered members as arrays.
func DecodeQuery(q url.Values) (Event, error) {
	tree := &qnode{}
	// Sorted, so that equal queries give equal events (an Unknown keeps its
	// members' order).
	for _, key := range slices.Sorted(maps.Keys(q)) {
		values := q[key]
		path, err := splitQueryKey(key)
		if err != nil {
			return nil, &FieldError{Field: key, Offset: -1, Err: err}
		}
		tree.insert(path, values)
	}
	var shape *qshape
	if et := tree.child("eventType"); et != nil && len(et.values) == 1 {
		if info, ok := eventTypes[EventType(et.values[0])]; ok {
			shape = shapeOf(reflect.TypeOf(info.new()))
			for from, to := range info.keyAliases {
				if n := tree.child(from); n != nil && tree.child(to) == nil {
					n.name = to
				}
			}
		}
	}
	var b []byte
	b, err := tree.appendJSON(b, shape, "")
	if err != nil {
		return nil, err
	}
	return Decode(b)
}

// qnode is a query parameter tree: a key with its values, or with children
// (from brackets or dots), in order of first appearance.
type qnode struct {
	name     string
	values   []string
	children []*qnode
	// list marks children that came from [] or [N]: an array, not an object.
	list bool
}

func (n *qnode) child(name string) *qnode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (n *qnode) insert(path []string, values []string) {
	if len(path) == 0 {
		n.values = append(n.values, values...)
		return
	}
	seg := path[0]
	if seg == "" { // a[] : each value is an element
		n.list = true
		for _, v := range values {
			n.children = append(n.children, &qnode{name: strconv.Itoa(len(n.children)), values: []string{v}})
		}
		return
	}
	c := n.child(seg)
	if c == nil {
		c = &qnode{name: seg}
		n.children = append(n.children, c)
	}
	c.insert(path[1:], values)
}

// isIndexed reports whether every child has a numeric name.
func (n *qnode) isIndexed() bool {
	for _, c := range n.children {
		if _, err := strconv.Atoi(c.name); err != nil {
			return false
		}
	}
	return true
}

// splitQueryKey splits "a[b][c]", "a.b.c" or "a[]" into its names; an
// empty name stands for [].
func splitQueryKey(key string) ([]string, error) {
	base, rest, _ := strings.Cut(key, "[")
	if base == "" {
		return nil, fmt.Errorf("query parameter %q has no name", key)
	}
	path := strings.Split(base, ".")
	if rest == "" && !strings.Contains(key, "[") {
		return path, nil
	}
	rest = "[" + rest
	for rest != "" {
		if rest[0] != '[' {
			return nil, fmt.Errorf("query parameter %q: want name[sub], got text after ]", key)
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, fmt.Errorf("query parameter %q: [ without ]", key)
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	return path, nil
}

// appendJSON renders the tree as JSON, using shape (nil when unknown) to
// write numbers and booleans as such.
func (n *qnode) appendJSON(b []byte, shape *qshape, field string) ([]byte, error) {
	if len(n.children) == 0 {
		return n.appendLeaf(b, shape, field)
	}
	if len(n.values) > 0 {
		return nil, &FieldError{Field: field, Offset: -1, Err: fmt.Errorf("given both a value and sub-fields")}
	}
	isList := n.list || shape != nil && shape.kind == qArray || shape == nil && n.isIndexed()
	if isList {
		if !n.isIndexed() {
			return nil, &FieldError{Field: field, Offset: -1, Err: fmt.Errorf("want an array, got named sub-fields")}
		}
		var elem *qshape
		if shape != nil {
			elem = shape.elem
		}
		b = append(b, '[')
		children := slices.Clone(n.children)
		slices.SortStableFunc(children, func(x, y *qnode) int {
			xi, _ := strconv.Atoi(x.name)
			yi, _ := strconv.Atoi(y.name)
			return xi - yi
		})
		for i, c := range children {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = c.appendJSON(b, elem, joinField(field, strconv.Itoa(i))); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	b = append(b, '{')
	for i, c := range n.children {
		if i > 0 {
			b = append(b, ',')
		}
		b, _ = jsontext.AppendQuote(b, c.name)
		b = append(b, ':')
		var err error
		if b, err = c.appendJSON(b, shape.field(c.name), joinField(field, c.name)); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func (n *qnode) appendLeaf(b []byte, shape *qshape, field string) ([]byte, error) {
	kind := qString
	if shape != nil {
		kind = shape.kind
	}
	// "{}" and "[]" stand for an empty object or array, which would
	// otherwise leave no parameter at all.
	if len(n.values) == 1 && (n.values[0] == "{}" && (shape == nil || kind == qObject || kind == qMap) ||
		n.values[0] == "[]" && (shape == nil || kind == qArray)) {
		return append(b, n.values[0]...), nil
	}
	if kind == qArray {
		b = append(b, '[')
		for i, v := range n.values {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendScalar(b, shape.elem.kind, v)
		}
		return append(b, ']'), nil
	}
	if len(n.values) != 1 {
		return nil, &FieldError{Field: field, Offset: -1, Err: fmt.Errorf("given %d values, want 1", len(n.values))}
	}
	v := n.values[0]
	if (kind == qObject || kind == qMap) && strings.HasPrefix(strings.TrimSpace(v), "{") {
		if !jsontext.Value(v).IsValid() {
			return nil, &FieldError{Field: field, Offset: -1, Err: fmt.Errorf("%w: value is not a JSON object", ErrMalformed)}
		}
		return append(b, v...), nil
	}
	return appendScalar(b, kind, v), nil
}

// appendScalar writes v as a number or boolean where the shape wants one
// and v is one, and as a string otherwise, so that a wrong value reaches
// Decode and is reported there with its field.
func appendScalar(b []byte, kind qkind, v string) []byte {
	switch kind {
	case qNumber:
		if jsontext.Value(v).IsValid() && jsontext.Value(v).Kind() == '0' {
			return append(b, v...)
		}
	case qBool:
		if v == "true" || v == "false" {
			return append(b, v...)
		}
	}
	b, _ = jsontext.AppendQuote(b, v)
	return b
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// qshape is the JSON shape of a Go type, as far as the query form needs it.
type qshape struct {
	kind   qkind
	fields map[string]*qshape // qObject
	elem   *qshape            // qArray
}

type qkind int

const (
	qString qkind = iota
	qNumber
	qBool
	qObject // a struct: known members
	qMap    // a map of strings
	qArray
)

func (s *qshape) field(name string) *qshape {
	if s == nil {
		return nil
	}
	switch s.kind {
	case qObject:
		return s.fields[name]
	case qMap:
		return &qshape{kind: qString}
	}
	return nil
}

var shapes sync.Map // reflect.Type → *qshape

func shapeOf(t reflect.Type) *qshape {
	if s, ok := shapes.Load(t); ok {
		return s.(*qshape)
	}
	s := buildShape(t)
	shapes.Store(t, s)
	return s
}

func buildShape(t reflect.Type) *qshape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType || t == durationType {
		return &qshape{kind: qString}
	}
	switch t.Kind() {
	case reflect.Bool:
		return &qshape{kind: qBool}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return &qshape{kind: qNumber}
	case reflect.Map:
		return &qshape{kind: qMap}
	case reflect.Slice, reflect.Array:
		return &qshape{kind: qArray, elem: buildShape(t.Elem())}
	case reflect.Struct:
		s := &qshape{kind: qObject, fields: map[string]*qshape{}}
		addFields(s, t)
		return s
	}
	return &qshape{kind: qString}
}

// addFields adds the JSON members of struct t, inlining embedded structs.
func addFields(s *qshape, t reflect.Type) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || strings.Contains(opts, "embed") {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			addFields(s, f.Type)
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.fields[name] = buildShape(f.Type)
	}
}
