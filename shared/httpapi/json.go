package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// maxJSONBody bounds the request bodies of the management and read routes.
const maxJSONBody = 1 << 20

// decodeJSON reads a JSON object body into v. An absent or empty body leaves v as it is (the
// SDK sends `POST /v0/inboxes` with no body at all); `null` does the same. Malformed JSON, a
// non-object body, wrong-typed fields and unknown fields, at any depth, are 400
// ValidationErrors naming the field: a field the server does not know is never dropped
// silently (a `pod_id` on `POST /v0/api-keys` would otherwise mint an organisation key). The
// SDKs strip unknown keys client-side, so only hand-written requests meet this.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONLimit(w, r, v, maxJSONBody)
}

// decodeJSONLimit is decodeJSON for a body of at most limit bytes (413 beyond).
func decodeJSONLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return err
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil
	}
	if data[0] != '{' && !bytes.Equal(data, []byte("null")) {
		if !json.Valid(data) {
			return invalid("", "request body is not valid JSON")
		}
		return invalid("", "request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("", "request body has data after the JSON object")
	}
	if path := unknownMember(data, reflect.TypeOf(v), ""); path != "" {
		return unknownField(path)
	}
	for _, m := range objectMembers(data) {
		if slices.ContainsFunc(notOnRoute[r.Pattern], func(f string) bool { return strings.EqualFold(f, m.name) }) {
			return unknownField(m.name)
		}
	}
	return nil
}

// notOnRoute lists, by route, the fields of a body type that the route's own request does not
// have: AgentMail defines one request per route, Pigeon decodes some of them into one struct
// (wire.SendMessageRequest for the four sends; one webhook body for three scopes). They are
// refused as unknown fields, like any other.
var notOnRoute = map[string][]string{
	"POST /v0/inboxes/{inbox_id}/messages/send":                   {"reply_all"},
	"POST /v0/inboxes/{inbox_id}/messages/{message_id}/forward":   {"reply_all"},
	"POST /v0/inboxes/{inbox_id}/messages/{message_id}/reply":     {"subject"},
	"POST /v0/inboxes/{inbox_id}/messages/{message_id}/reply-all": {"to", "cc", "bcc", "subject", "reply_all"},
	"POST /v0/pods/{pod_id}/webhooks":                             {"pod_ids"},
	"POST /v0/inboxes/{inbox_id}/webhooks":                        {"inbox_ids", "pod_ids"},
	"PATCH /v0/pods/{pod_id}/webhooks/{webhook_id}":               {"add_pod_ids", "remove_pod_ids"},
	"PATCH /v0/inboxes/{inbox_id}/webhooks/{webhook_id}":          {"add_inbox_ids", "remove_inbox_ids", "add_pod_ids", "remove_pod_ids"},
}

// unknownField is the 400 for a body member the request does not have.
func unknownField(path string) error {
	return invalid(path, "%s is not a field of this request", path)
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
)

// unknownMember returns the path (`a.b`, `a[0].b`, as the other field errors name them) of the
// first member of the JSON value data, in document order, that type t does not declare, or ""
// when there is none. Field names match as encoding/json matches them (exactly, else ignoring
// case). Maps take any key. Values that decode themselves (json.Unmarshaler, RawMessage) are
// not looked into; Pigeon's own such types (wire.Nullable, wire.StringList, the metadata of an
// inbox update) hold strings, lists of strings or free-form maps, which have no fields.
func unknownMember(data []byte, t reflect.Type, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType || t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return ""
	}
	switch t.Kind() {
	case reflect.Struct:
		fields := jsonFields(t)
		for _, m := range objectMembers(data) {
			f, ok := fields[m.name]
			if !ok {
				for name, ff := range fields {
					if strings.EqualFold(name, m.name) {
						f, ok = ff, true
						break
					}
				}
			}
			p := joinPath(path, m.name)
			if !ok {
				return p
			}
			if u := unknownMember(m.value, f, p); u != "" {
				return u
			}
		}
	case reflect.Map:
		for _, m := range objectMembers(data) {
			if u := unknownMember(m.value, t.Elem(), joinPath(path, m.name)); u != "" {
				return u
			}
		}
	case reflect.Slice, reflect.Array:
		var elems []json.RawMessage
		if t.Elem().Kind() == reflect.Uint8 || json.Unmarshal(data, &elems) != nil {
			return ""
		}
		for i, e := range elems {
			if u := unknownMember(e, t.Elem(), path+"["+strconv.Itoa(i)+"]"); u != "" {
				return u
			}
		}
	}
	return ""
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// jsonFields maps the JSON names of struct t's fields, those of embedded structs included,
// to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			for n, typ := range jsonFields(ft) {
				if _, ok := out[n]; !ok {
					out[n] = typ
				}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

type member struct {
	name  string
	value json.RawMessage
}

// objectMembers lists the members of a JSON object in document order; anything else (null,
// another kind of value) has none.
func objectMembers(data []byte) []member {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return out
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return out
		}
		out = append(out, member{name, v})
	}
	return out
}

func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return invalid("", "request body is not valid JSON (at byte %d): %v", syn.Offset, syn)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "request body is not valid JSON: unexpected end")
	case errors.As(err, &typ):
		path := typ.Field
		if path == "" {
			return invalid("", "request body must be a JSON object")
		}
		return invalid(path, "%s must be %s, not a JSON %s", path, jsonKind(typ.Type.Kind().String()), typ.Value)
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return invalid("", "request body is not valid: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a Go kind in JSON terms for error messages.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "int", "int64", "int32", "uint", "uint64", "float64":
		return "a number"
	}
	return "a valid value"
}
