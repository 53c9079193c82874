package edge

import (
	"io"
	"net"
	"time"
)

// ReadTimeouts wraps ln so that its connections time their reads themselves, the way
// fasthttp's ReadTimeout and IdleTimeout would: a wait for a request (a new connection's
// first, a keep-alive connection's next) ends timeout after it began, and a request must be
// read whole within timeout of its first bytes; a slow sender is cut, an idle one closed. The
// server then runs with fasthttp's own timeouts off. The difference is the clock: fasthttp
// reads time.Now for each of its two deadlines per request (about 70 ns each on a virtual
// machine, and re-arming the poller's timer costs another 280 ns); here the deadline comes
// from now, a coarse clock (clock.Coarse: an atomic load), and a deadline that would move the
// current one later by less than slack is skipped, so consecutive requests on a connection
// reach the poller once per slack. A skipped deadline stays the earlier one: a connection may
// time out up to slack (plus the clock's lag, a millisecond or two) before its timeout, never
// after it.
//
// A deadline someone sets explicitly (SetReadDeadline) is coalesced the same way; setting
// the whole deadline to zero (SetDeadline, what fasthttp does when it hands a hijacked
// connection to its handler) hands the connection over: from then on its owner alone sets
// deadlines. The connections' NetConn is the accepted connection itself, for whoever needs
// the socket (the live relay's vectored writes).
func ReadTimeouts(ln net.Listener, timeout, slack time.Duration, now func() time.Time) net.Listener {
	return &timeoutListener{Listener: ln, timeout: timeout, slack: slack, now: now}
}

type timeoutListener struct {
	net.Listener
	timeout, slack time.Duration
	now            func() time.Time
}

func (l *timeoutListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &timeoutConn{Conn: c, l: l, waiting: true}, nil
}

// timeoutConn is used by one goroutine at a time for its reads, writes and deadlines
// (fasthttp's connection loop), so its state needs no lock. Once handed over (hijacked), Read
// and Write touch none of it, since the new owner may read and write from two goroutines.
type timeoutConn struct {
	net.Conn
	l       *timeoutListener
	readDL  time.Time // the read deadline in force; zero: none
	waiting bool      // the next read waits for a request: new, or a response was written since
	handed  bool      // handed over: the owner sets the deadlines (set before the handover)
}

// NetConn is the accepted connection.
func (c *timeoutConn) NetConn() net.Conn { return c.Conn }

func (c *timeoutConn) Read(b []byte) (int, error) {
	if c.handed || !c.waiting {
		return c.Conn.Read(b)
	}
	// The wait for a request: timeout from now.
	if err := c.extend(); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(b)
	if n > 0 {
		// The request's first bytes: it has timeout from now to arrive whole (after a
		// short wait this is the deadline just set, and skipped).
		c.waiting = false
		if err := c.extend(); err != nil {
			return n, err
		}
	}
	return n, err
}

func (c *timeoutConn) Write(b []byte) (int, error) {
	if !c.handed {
		c.waiting = true // a response, whole or in part: the next read waits for a request
	}
	return c.Conn.Write(b)
}

// extend sets the read deadline timeout from now, unless that moves it later by less than
// the slack.
func (c *timeoutConn) extend() error {
	return c.SetReadDeadline(c.l.now().Add(c.l.timeout))
}

// ReadFrom hands a copy to the accepted connection's own ReadFrom: for a TCP connection and a
// local file that is sendfile(2), the file's bytes going to the socket without passing through
// user space. Without it, bufio.Writer.ReadFrom (how fasthttp copies a response body) would
// see a connection that cannot take a reader and copy through its 4 KB buffer.
func (c *timeoutConn) ReadFrom(r io.Reader) (int64, error) {
	if !c.handed {
		c.waiting = true
	}
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c.Conn}, r)
}

// writerOnly hides every method of a writer but Write, so io.Copy cannot hand the copy back
// to ReadFrom.
type writerOnly struct{ io.Writer }

func (c *timeoutConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && !c.readDL.IsZero() {
		if d := t.Sub(c.readDL); d >= 0 && d < c.l.slack {
			return nil
		}
	}
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	c.readDL = t
	return nil
}

func (c *timeoutConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.readDL = t
	if t.IsZero() {
		c.handed = true
	}
	return nil
}
