package edge

import (
	"net"
	"time"
)

// CoalesceReadDeadlines wraps ln so that its connections skip a read deadline that moves the
// current one later by less than slack. fasthttp sets the read deadline twice per keep-alive
// request (idle wait, then request read); each SetReadDeadline re-arms the runtime poller's
// timer, about 280 ns on a virtual machine, which is a tenth of what a cached login costs. With
// both timeouts equal, consecutive requests ask for deadlines microseconds apart, and only one
// call per slack reaches the poller. A skipped deadline stays the earlier one: a connection
// may time out up to slack before its timeout, never after it.
//
// The connections' NetConn is the accepted connection itself, for whoever needs the socket
// (the live relay's vectored writes).
func CoalesceReadDeadlines(ln net.Listener, slack time.Duration) net.Listener {
	return &coalescingListener{Listener: ln, slack: slack}
}

type coalescingListener struct {
	net.Listener
	slack time.Duration
}

func (l *coalescingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &coalescingConn{Conn: c, slack: l.slack}, nil
}

// coalescingConn is used by one goroutine at a time for its reads and deadlines (fasthttp's
// connection loop), so the deadline it last set needs no lock.
type coalescingConn struct {
	net.Conn
	slack  time.Duration
	readDL time.Time // the read deadline in force; zero: none
}

// NetConn is the accepted connection.
func (c *coalescingConn) NetConn() net.Conn { return c.Conn }

func (c *coalescingConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && !c.readDL.IsZero() {
		if d := t.Sub(c.readDL); d >= 0 && d < c.slack {
			return nil
		}
	}
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	c.readDL = t
	return nil
}

func (c *coalescingConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.readDL = t
	return nil
}
