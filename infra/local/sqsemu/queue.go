package sqsemu

import "container/heap"

// queue is one queue's messages, indexed in memory: by id, by current receipt handle, and in
// a heap by (visibleAt, sequence), so a receive takes the visible messages off the top and a
// poller knows when the next one becomes visible.
type queue struct {
	name        string
	created     bool // by CreateQueue in this run; a queue known only from the log is not served
	visibility  int64
	maxReceives int    // 0: no redrive
	dlq         string // dead-letter queue name

	byID      map[string]*message
	byReceipt map[string]*message
	order     byVisibility
}

type message struct {
	id, body  string
	seq       uint64 // send order
	receipt   string
	receives  int
	sentAt    int64 // Unix nanoseconds, as are the others
	firstRecv int64
	visibleAt int64
	index     int // in queue.order
}

// byVisibility is a heap of messages, the earliest visible (then the oldest) first.
type byVisibility []*message

func (h byVisibility) Len() int { return len(h) }
func (h byVisibility) Less(i, j int) bool {
	if h[i].visibleAt != h[j].visibleAt {
		return h[i].visibleAt < h[j].visibleAt
	}
	return h[i].seq < h[j].seq
}
func (h byVisibility) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *byVisibility) Push(x any) {
	m := x.(*message)
	m.index = len(*h)
	*h = append(*h, m)
}
func (h *byVisibility) Pop() any {
	old := *h
	m := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	m.index = -1
	return m
}

// queueNamed returns the queue called name, adding an uncreated one if there is none.
func (s *Server) queueNamed(name string) *queue {
	q := s.queues[name]
	if q == nil {
		q = &queue{name: name, byID: map[string]*message{}, byReceipt: map[string]*message{}}
		s.queues[name] = q
	}
	return q
}

// add puts a message in q.
func (s *Server) add(q *queue, m *message) {
	q.byID[m.id] = m
	if m.receipt != "" {
		q.byReceipt[m.receipt] = m
	}
	heap.Push(&q.order, m)
	s.liveBytes += int64(len(m.body)) + msgOverhead
}

// remove takes a message out of q.
func (s *Server) remove(q *queue, m *message) {
	delete(q.byID, m.id)
	if m.receipt != "" && q.byReceipt[m.receipt] == m {
		delete(q.byReceipt, m.receipt)
	}
	if m.index >= 0 {
		heap.Remove(&q.order, m.index)
	}
	s.liveBytes -= int64(len(m.body)) + msgOverhead
}

// move takes a message from q to the dead-letter queue dlq, visible there at visibleAt.
func (s *Server) move(q *queue, m *message, dlq *queue, visibleAt int64) {
	s.remove(q, m)
	m.receipt, m.visibleAt = "", visibleAt
	s.add(dlq, m)
}

func (q *queue) setReceipt(m *message, receipt string) {
	if m.receipt != "" && q.byReceipt[m.receipt] == m {
		delete(q.byReceipt, m.receipt)
	}
	m.receipt = receipt
	if receipt != "" {
		q.byReceipt[receipt] = m
	}
}

func (q *queue) setVisible(m *message, at int64) {
	m.visibleAt = at
	if m.index >= 0 {
		heap.Fix(&q.order, m.index)
	}
}
