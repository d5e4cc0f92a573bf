package s3store

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// An object's data value is magic, the header's length (uint32, big-endian), the header
// (JSON), then the object's bytes: one value, so a read sees a header and bytes that belong
// together. The header alone is also kept under the object's meta key, for HEAD and listing.
const (
	magic     = "pgs3obj1"
	prefixLen = len(magic) + 4
)

// header describes one object.
type header struct {
	Key      string            `json:"key"`
	Size     int64             `json:"size"`
	MD5      string            `json:"md5"`      // hex; always 32 characters
	Modified int64             `json:"modified"` // Unix nanoseconds
	Meta     map[string]string `json:"meta,omitempty"`
}

var zeroMD5 = strings.Repeat("0", 32)

func (h *header) hash() []byte {
	b, _ := hex.DecodeString(h.MD5)
	return b
}

func (h *header) modified() time.Time { return time.Unix(0, h.Modified).UTC() }

func (h *header) metadata() map[string]string {
	if h.Meta == nil {
		return map[string]string{}
	}
	return h.Meta
}

// encode returns the data value's prefix: magic, length and header JSON. Headers that
// differ only in their MD5 encode to the same length.
func (h *header) encode() (prefix, js []byte, err error) {
	if js, err = json.Marshal(h); err != nil {
		return nil, nil, err
	}
	prefix = make([]byte, prefixLen, prefixLen+len(js))
	copy(prefix, magic)
	binary.BigEndian.PutUint32(prefix[len(magic):], uint32(len(js)))
	return append(prefix, js...), js, nil
}

var errCorrupt = errors.New("s3store: corrupt object")

// decodeData splits a data value into its header and the object's bytes.
func decodeData(v []byte) (*header, []byte, error) {
	if len(v) < prefixLen || string(v[:len(magic)]) != magic {
		return nil, nil, errCorrupt
	}
	end := prefixLen + int(binary.BigEndian.Uint32(v[len(magic):prefixLen]))
	if end > len(v) {
		return nil, nil, errCorrupt
	}
	h, err := decodeHeader(v[prefixLen:end])
	if err != nil {
		return nil, nil, err
	}
	body := v[end:]
	if int64(len(body)) != h.Size {
		return nil, nil, fmt.Errorf("%w: %d bytes for a %d-byte object", errCorrupt, len(body), h.Size)
	}
	return h, body, nil
}

func decodeHeader(js []byte) (*header, error) {
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return &h, nil
}
