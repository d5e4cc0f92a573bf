package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// maxJSONBody bounds the request bodies of the management and read routes.
const maxJSONBody = 1 << 20

// decodeJSON reads a JSON object body into v. An absent or empty body leaves v as it is (the
// SDK sends `POST /v0/inboxes` with no body at all); `null` does the same. Unknown keys are
// ignored, as the SDKs strip them client-side anyway. Malformed JSON, a non-object body and
// wrong-typed fields are 400 ValidationErrors naming the field.
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
	return nil
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
