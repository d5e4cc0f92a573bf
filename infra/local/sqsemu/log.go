package sqsemu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
)

// The queue log. Every change to a queue is one record appended to <dir>/queue.log:
//
//	file    = header record*
//	header  = "pigeon-sqsemu 1\n"
//	record  = length (uint32 LE, of payload) · CRC-32C of payload (uint32 LE) · payload
//	payload = op byte · fields (strings as uvarint length + bytes, numbers as varints)
//
//	's' sent      queue, id, body, sentAt, visibleAt, receipt, receives, firstReceive
//	'r' received  queue, id, receipt, visibleAt, now (the first receive's time if it is one)
//	'v' visibility queue, id, visibleAt
//	'd' deleted   queue, id
//	'm' moved     queue, id, dead-letter queue, visibleAt (the redrive)
//
// Times are Unix nanoseconds. A request is answered only once its records are on disk
// (fsync); concurrent requests share one fsync (group commit). Opening replays the log up to
// its first incomplete or corrupt record (what a crash mid-append leaves; nothing after it
// was acknowledged) and rewrites it as a snapshot: one 's' record per message, written to
// queue.log.tmp, fsynced and renamed over queue.log (then the directory is fsynced). The same
// compaction runs while serving once the log is compactMin bytes and four times what its
// messages need.

const (
	logName     = "queue.log"
	logHeader   = "pigeon-sqsemu 1\n"
	maxRecord   = 8 << 20 // larger lengths are a torn or corrupt record
	compactMin  = 8 << 20
	msgOverhead = 128 // what a message costs in a snapshot besides its body (roughly)
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record ops.
const (
	opSend     = 's'
	opReceive  = 'r'
	opVisible  = 'v'
	opDelete   = 'd'
	opMove     = 'm'
	recordHead = 8
)

// wal is the open log. Appends happen with the server's mutex held, in the order the changes
// are made; syncs without it.
type wal struct {
	dir  string
	f    *os.File
	size int64 // bytes in the current file
	buf  []byte

	written atomic.Int64 // bytes appended since open (across compactions)
	synced  atomic.Int64 // of those, bytes known to be on disk

	syncMu sync.Mutex // one fsync at a time; held (after Server.mu) by compaction

	errMu sync.Mutex
	err   error // the first write or fsync failure: the log is unusable after it
}

func (w *wal) failed() error {
	if w == nil {
		return nil
	}
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

func (w *wal) fail(err error) error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if w.err == nil {
		w.err = fmt.Errorf("sqsemu: queue log: %w", err)
	}
	return w.err
}

// enc builds one payload.
type enc []byte

func (e enc) str(s string) enc  { return append(binary.AppendUvarint(e, uint64(len(s))), s...) }
func (e enc) num(n int64) enc   { return binary.AppendVarint(e, n) }
func (e enc) unum(n uint64) enc { return binary.AppendUvarint(e, n) }

// dec reads one payload; a short or malformed one sets bad.
type dec struct {
	b   []byte
	bad bool
}

func (d *dec) str() string {
	n, k := binary.Uvarint(d.b)
	if k <= 0 || uint64(len(d.b)-k) < n {
		d.bad = true
		return ""
	}
	s := string(d.b[k : k+int(n)])
	d.b = d.b[k+int(n):]
	return s
}

func (d *dec) num() int64 {
	n, k := binary.Varint(d.b)
	if k <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *dec) unum() uint64 {
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[k:]
	return n
}

// frame appends payload as one record to dst.
func frame(dst, payload []byte) []byte {
	var h [recordHead]byte
	binary.LittleEndian.PutUint32(h[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[4:8], crc32.Checksum(payload, castagnoli))
	return append(append(dst, h[:]...), payload...)
}

// records calls fn with each intact record's payload, stopping at the first torn or corrupt
// one, and reports how many bytes of data were intact.
func records(data []byte, fn func(payload []byte) error) (int, error) {
	off := 0
	for len(data)-off >= recordHead {
		n := int(binary.LittleEndian.Uint32(data[off : off+4]))
		sum := binary.LittleEndian.Uint32(data[off+4 : off+8])
		if n > maxRecord || len(data)-off-recordHead < n {
			break
		}
		payload := data[off+recordHead : off+recordHead+n]
		if crc32.Checksum(payload, castagnoli) != sum {
			break
		}
		if err := fn(payload); err != nil {
			return off, err
		}
		off += recordHead + n
	}
	return off, nil
}

// load replays dir's log into s (its queues, messages and sequence); a missing log is an
// empty one.
func (s *Server) load(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, logName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqsemu: read queue log: %w", err)
	}
	if len(data) < len(logHeader) || string(data[:len(logHeader)]) != logHeader {
		return fmt.Errorf("sqsemu: %s is not a queue log of this version", filepath.Join(dir, logName))
	}
	_, err = records(data[len(logHeader):], s.replay)
	return err
}

// replay applies one record; s.mu held (or s not yet shared).
func (s *Server) replay(payload []byte) error {
	if len(payload) == 0 {
		return errors.New("sqsemu: empty record in the queue log")
	}
	d := &dec{b: payload[1:]}
	q := s.queueNamed(d.str())
	id := d.str()
	switch payload[0] {
	case opSend:
		m := &message{id: id, body: d.str(), sentAt: d.num(), visibleAt: d.num(), receipt: d.str(), receives: int(d.unum()), firstRecv: d.num()}
		if d.bad {
			return errors.New("sqsemu: malformed send record in the queue log")
		}
		s.seq++
		m.seq = s.seq
		s.add(q, m)
	case opReceive:
		receipt, visibleAt, now := d.str(), d.num(), d.num()
		if m := q.byID[id]; m != nil && !d.bad {
			q.setReceipt(m, receipt)
			m.receives++
			if m.firstRecv == 0 {
				m.firstRecv = now
			}
			q.setVisible(m, visibleAt)
		}
	case opVisible:
		visibleAt := d.num()
		if m := q.byID[id]; m != nil && !d.bad {
			q.setVisible(m, visibleAt)
		}
	case opDelete:
		if m := q.byID[id]; m != nil {
			s.remove(q, m)
		}
	case opMove:
		to, visibleAt := s.queueNamed(d.str()), d.num()
		if m := q.byID[id]; m != nil && !d.bad {
			s.move(q, m, to, visibleAt)
		}
	default:
		return fmt.Errorf("sqsemu: unknown record %q in the queue log", payload[0])
	}
	return nil
}

// openLog writes the snapshot of s's state as dir's log and opens it for appending.
func openLog(dir string, s *Server) (*wal, error) {
	w := &wal{dir: dir}
	if err := w.rewrite(s); err != nil {
		return nil, err
	}
	return w, nil
}

// rewrite replaces the log with a snapshot of s (s.mu and w.syncMu held, or s not yet shared):
// every message as one send record, in sequence order.
func (w *wal) rewrite(s *Server) error {
	var all []*message
	names := map[*message]string{}
	for _, q := range s.queues {
		for _, m := range q.byID {
			all = append(all, m)
			names[m] = q.name
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	out := []byte(logHeader)
	for _, m := range all {
		out = frame(out, sendRecord(names[m], m))
	}
	path := filepath.Join(w.dir, logName)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("sqsemu: queue log: %w", err)
	}
	if _, err = f.Write(out); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(w.dir)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("sqsemu: rewrite queue log: %w", err)
	}
	nf, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("sqsemu: queue log: %w", err)
	}
	if w.f != nil {
		_ = w.f.Close()
	}
	w.f, w.size = nf, int64(len(out))
	w.synced.Store(w.written.Load()) // the snapshot holds everything appended so far
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func sendRecord(queue string, m *message) []byte {
	return enc{opSend}.str(queue).str(m.id).str(m.body).num(m.sentAt).num(m.visibleAt).str(m.receipt).unum(uint64(m.receives)).num(m.firstRecv)
}

// append writes one record (s.mu held). A failure makes the log unusable: the next sync
// reports it, so the request that made the change is answered with an error.
func (s *Server) append(payload []byte) {
	w := s.wal
	if w == nil || w.failed() != nil {
		return
	}
	w.buf = frame(w.buf[:0], payload)
	if _, err := w.f.Write(w.buf); err != nil {
		_ = w.fail(err)
		return
	}
	w.size += int64(len(w.buf))
	w.written.Add(int64(len(w.buf)))
	if cap(w.buf) > 1<<20 {
		w.buf = nil
	}
}

// end is how far the log has been written (s.mu held, every change of the request made):
// sync(end) makes what was appended so far durable. It is also where the log is compacted,
// when it has grown to compactMin and four times what the messages need.
func (s *Server) end() int64 {
	w := s.wal
	if w == nil {
		return 0
	}
	if w.size > compactMin && w.size > 4*s.liveBytes && w.failed() == nil {
		w.syncMu.Lock()
		if err := w.rewrite(s); err != nil {
			_ = w.fail(err)
		}
		w.syncMu.Unlock()
	}
	return w.written.Load()
}

// sync returns once the log is on disk up to upTo (s.mu not held). Callers that come while an
// fsync runs wait for it and share the next one.
func (w *wal) sync(upTo int64) error {
	if w == nil {
		return nil
	}
	if err := w.failed(); err != nil {
		return err
	}
	if w.synced.Load() >= upTo {
		return nil
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if err := w.failed(); err != nil {
		return err
	}
	if w.synced.Load() >= upTo {
		return nil
	}
	target := w.written.Load() // every byte counted here has been written to the file
	if err := w.f.Sync(); err != nil {
		return w.fail(err)
	}
	if target > w.synced.Load() {
		w.synced.Store(target)
	}
	return nil
}

// close syncs and closes the file (s.mu held).
func (w *wal) close() error {
	if w == nil {
		return nil
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	err := w.failed()
	if err == nil {
		if serr := w.f.Sync(); serr != nil {
			err = serr
		}
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	_ = w.fail(errors.New("closed"))
	return err
}
