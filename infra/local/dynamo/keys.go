package dynamo

import (
	"bytes"
	"encoding/binary"
)

// The database is one pebble key space. Every key starts with a one-byte family and the
// table name, each followed by 0x00 (table names are [A-Za-z0-9_.-], so they never hold it):
//
//	m\0<table>                               table description (JSON)
//	i\0<table>\0<pk><sk>                     an item (DynamoDB JSON)
//	x\0<table>\0<index>\0<gpk><gsk><pk><sk>  a GSI entry (empty value; the item is read from i)
//	t\0<table>\0<8-byte expiry><pk><sk>      a TTL entry (empty value)
//	s\0<table>\0<8-byte sequence>            a stream record (JSON)
//	c\0<consumer>\0<table>                   a stream consumer's checkpoint
//	h\0<table>                              the stream's high-water mark: the last sequence
//	                                         number trimmed or deleted, so numbering resumes
//	                                         above it when no record is left
//
// Key components (<pk>, <sk>, …) are escaped so that their concatenation sorts as DynamoDB
// sorts keys: each 0x00 becomes 0x00 0xFF and the component ends with 0x00 0x01. So within a
// partition, items sort by sort key bytes (S and B compare as bytes in DynamoDB), and no
// partition's key range contains another's.
const (
	famMeta       = 'm'
	famItem       = 'i'
	famIndex      = 'x'
	famTTL        = 't'
	famStream     = 's'
	famCheckpoint = 'c'
	famStreamMark = 'h'
)

func prefix(fam byte, parts ...string) []byte {
	b := []byte{fam, 0}
	for _, p := range parts {
		b = append(b, p...)
		b = append(b, 0)
	}
	return b
}

// appendComponent appends one escaped key component.
func appendComponent(b, c []byte) []byte {
	for {
		i := bytes.IndexByte(c, 0)
		if i < 0 {
			break
		}
		b = append(b, c[:i+1]...)
		b = append(b, 0xFF)
		c = c[i+1:]
	}
	b = append(b, c...)
	return append(b, 0, 1)
}

// nextComponent splits one escaped component off the front of b.
func nextComponent(b []byte) (comp, rest []byte, ok bool) {
	var out []byte
	for i := 0; i+1 < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		switch b[i+1] {
		case 0xFF:
			out = append(out, b[:i+1]...)
			b = b[i+2:]
			i = -1
		case 1:
			return append(out, b[:i]...), b[i+2:], true
		default:
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// keyBytes is a key attribute's bytes: S as UTF-8, B as is.
func keyBytes(v Value) []byte {
	if v.Kind == KindB {
		return v.B
	}
	return []byte(v.S)
}

// prefixEnd is the smallest key greater than every key that starts with p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func be64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}
