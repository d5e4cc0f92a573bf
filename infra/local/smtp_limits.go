package local

import (
	"io"
	"net"
	"sync"
	"time"
)

// What keeps one SMTP client from holding the stand-in's resources, and the codes it answers.
const (
	// smtpReadTimeout disconnects a client that sends nothing for this long, or does not finish
	// a message's DATA within it, with 421 4.4.2: the server timeout of RFC 5321 §4.5.3.2.7.
	smtpReadTimeout = 5 * time.Minute
	// smtpWriteTimeout disconnects a client that does not take a reply within it.
	smtpWriteTimeout = time.Minute
	// rcptLookupTimeout bounds the inbox lookup of one RCPT; past it the recipient gets 451.
	rcptLookupTimeout = 10 * time.Second

	// MaxSMTPSessions is how many SMTP sessions the local stack serves at once; see
	// LimitSessions.
	MaxSMTPSessions = 100
)

// LimitSessions returns l serving at most max connections at a time. A connection beyond them
// is answered "421 4.7.0" and closed at once, as Postfix answers a client over its connection
// limit; the sending MTA retries later. A session's slot is freed when its connection closes,
// which smtpReadTimeout guarantees for idle clients.
func LimitSessions(l net.Listener, max int, hostname string) net.Listener {
	return &sessionLimit{
		Listener: l,
		slots:    make(chan struct{}, max),
		refusal:  "421 4.7.0 " + hostname + " Too many concurrent SMTP sessions, try again later\r\n",
	}
}

type sessionLimit struct {
	net.Listener
	slots   chan struct{}
	refusal string
}

func (l *sessionLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &sessionConn{Conn: c, release: sync.OnceFunc(func() { <-l.slots })}, nil
		default:
			go l.refuse(c)
		}
	}
}

func (l *sessionLimit) refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(smtpWriteTimeout))
	_, _ = io.WriteString(c, l.refusal)
	_ = c.Close()
}

// sessionConn gives its slot back when closed (once, however often it is closed).
type sessionConn struct {
	net.Conn
	release func()
}

func (c *sessionConn) Close() error {
	c.release()
	return c.Conn.Close()
}
