package dynamo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Handler serves the DynamoDB JSON 1.0 protocol (POST /, X-Amz-Target
// DynamoDB_20120810.<Operation>), as the AWS SDK clients speak it. Requests are not signed
// checked: the server listens on loopback only.
func (db *DB) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		op, ok := strings.CutPrefix(target, "DynamoDB_20120810.")
		if r.Method != http.MethodPost || !ok {
			writeError(w, &apiError{code: "UnknownOperationException", msg: "expected POST with X-Amz-Target DynamoDB_20120810.<Operation>"})
			return
		}
		h := db.operations()[op]
		if h == nil {
			writeError(w, &apiError{code: "UnknownOperationException", msg: "Pigeon's embedded DynamoDB does not serve " + op})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
		if err != nil {
			writeError(w, validationf("could not read the request: %v", err))
			return
		}
		if len(body) > maxRequestBytes {
			writeError(w, &apiError{code: "RequestEntityTooLarge", status: http.StatusRequestEntityTooLarge, msg: "Request must be smaller than 16 MB"})
			return
		}
		out, err := h(body)
		if err != nil {
			writeError(w, err)
			return
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			writeError(w, fmt.Errorf("dynamo: encode response: %w", err))
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write(buf.Bytes())
	})
}

// maxRequestBytes is DynamoDB's limit on an HTTP request.
const maxRequestBytes = 16 << 20

type operation func(body []byte) (any, error)

func (db *DB) operations() map[string]operation {
	return map[string]operation{
		"CreateTable":        decoded(db.createTable),
		"DescribeTable":      decoded(db.describeTable),
		"DeleteTable":        decoded(db.deleteTable),
		"ListTables":         decoded(db.listTables),
		"UpdateTimeToLive":   decoded(db.updateTimeToLive),
		"DescribeTimeToLive": decoded(db.describeTimeToLive),
		"PutItem":            decoded(db.putItem),
		"GetItem":            decoded(db.getItem),
		"DeleteItem":         decoded(db.deleteItem),
		"UpdateItem":         decoded(db.updateItem),
		"Query":              decoded(db.query),
		"Scan":               decoded(db.scan),
		"BatchGetItem":       decoded(db.batchGetItem),
		"BatchWriteItem":     decoded(db.batchWriteItem),
		"TransactWriteItems": decoded(db.transactWriteItems),
		"TransactGetItems":   decoded(db.transactGetItems),
	}
}

// decoded reads the request into In, refusing unknown members as DynamoDB's validation does.
func decoded[In any, Out any](f func(*In) (Out, error)) operation {
	return func(body []byte) (any, error) {
		in := new(In)
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(in); err != nil {
			return nil, &apiError{code: "SerializationException", msg: err.Error()}
		}
		return f(in)
	}
}

// apiError is an error DynamoDB would answer, with its code.
type apiError struct {
	code    string
	msg     string
	status  int            // 400 when 0
	extra   map[string]any // more members of the error body (CancellationReasons, Item)
	wrapped error
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }
func (e *apiError) Unwrap() error { return e.wrapped }

func validationf(format string, args ...any) *apiError {
	return &apiError{code: "ValidationException", msg: fmt.Sprintf(format, args...)}
}

func validation(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return &apiError{code: "ValidationException", msg: err.Error()}
}

func conditionFailed(old Item, returnOld bool) *apiError {
	e := &apiError{code: "ConditionalCheckFailedException", msg: "The conditional request failed"}
	if returnOld && old != nil {
		e.extra = map[string]any{"Item": old}
	}
	return e
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{code: "InternalServerError", status: http.StatusInternalServerError, msg: err.Error()}
	}
	status := ae.status
	if status == 0 {
		status = http.StatusBadRequest
	}
	body := map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + ae.code, "message": ae.msg}
	if ae.code == "ValidationException" || ae.code == "SerializationException" || ae.code == "UnknownOperationException" {
		body["__type"] = "com.amazon.coral.validate#" + ae.code
	}
	if ae.code == "TransactionCanceledException" {
		body["Message"] = ae.msg
		delete(body, "message")
	}
	for k, v := range ae.extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Errortype", ae.code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
