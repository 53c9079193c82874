package player

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/config"
)

// TestDownloads_Limits: a line runs at most DownloadsPerLine downloads and an address (an IPv6
// /64) at most DownloadsPerIP, whichever is reached first; a refusal takes nothing, a release
// gives the slot back once however often it is called, and nothing stays behind.
func TestDownloads_Limits(t *testing.T) {
	t.Parallel()
	d := newDownloads(config.Config{DownloadsPerLine: 2, DownloadsPerIP: 3})
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	r1 := d.take(t, 1, a)
	r2 := d.take(t, 1, b)
	d.refuse(t, 1, netip.MustParseAddr("198.51.100.7")) // line 1 is at 2
	r3 := d.take(t, 2, a)
	r4 := d.take(t, 3, a)
	d.refuse(t, 4, a) // address a is at 3
	r1()
	r1() // a second release gives nothing back
	r5 := d.take(t, 1, b)
	d.refuse(t, 1, b)
	// IPv6: one /64 is one client; another /64 is another.
	v6 := []netip.Addr{netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9"),
		netip.MustParseAddr("2001:db8:1:2::1")}
	rels := []func(){r2, r3, r4, r5}
	for i, ip := range v6 {
		rels = append(rels, d.take(t, int64(10+i), ip))
	}
	d.refuse(t, 13, netip.MustParseAddr("2001:db8:1:2::abcd"))
	rels = append(rels, d.take(t, 14, netip.MustParseAddr("2001:db8:1:3::1")))
	if got := clientKey(netip.MustParseAddr("::ffff:192.0.2.1")); got != netip.MustParsePrefix("192.0.2.1/32") {
		t.Errorf("clientKey(mapped) = %v", got)
	}
	for _, r := range rels {
		r()
	}
	if len(d.lines) != 0 || len(d.ips) != 0 {
		t.Errorf("after every release: %v %v, want empty", d.lines, d.ips)
	}
	// A zero Config means the defaults.
	e := newDownloads(config.Config{})
	for i := range config.DefaultDownloadsPerLine {
		e.take(t, 7, netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
	}
	e.refuse(t, 7, b)
}

func (d *downloads) take(t *testing.T, line int64, ip netip.Addr) func() {
	t.Helper()
	rel, ok := d.acquire(line, ip)
	if !ok {
		t.Fatalf("acquire(line %d, %s) refused", line, ip)
	}
	return rel
}

func (d *downloads) refuse(t *testing.T, line int64, ip netip.Addr) {
	t.Helper()
	if _, ok := d.acquire(line, ip); ok {
		t.Fatalf("acquire(line %d, %s) admitted", line, ip)
	}
}

// TestStallWriter: a client that stops reading makes the write fail at the stall deadline;
// one that reads slowly but steadily, for many times the deadline, is not cut.
func TestStallWriter(t *testing.T) {
	t.Parallel()
	const stall = time.Second // a loaded CI box can starve the reader for a few hundred ms
	pair := func(t *testing.T) (server, client net.Conn) {
		t.Helper()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		client, err = net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if server, err = ln.Accept(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { server.Close(); client.Close() })
		return server, client
	}
	chunk := make([]byte, 32<<10)

	t.Run("stalled", func(t *testing.T) {
		t.Parallel()
		server, _ := pair(t)
		w := &stallWriter{w: server, stall: stallDeadline{conn: server, timeout: stall}}
		done := make(chan error, 1)
		go func() {
			for {
				if _, err := w.Write(chunk); err != nil {
					done <- err
					return
				}
			}
		}()
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("write to a stalled client = %v, want the deadline", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a write to a stalled client never failed")
		}
	})

	t.Run("slow but steady", func(t *testing.T) {
		t.Parallel()
		server, client := pair(t)
		w := &stallWriter{w: server, stall: stallDeadline{conn: server, timeout: stall}}
		const total = 32 << 20 // far more than the socket buffers: the writer waits on the reader
		read := make(chan int64, 1)
		go func() {
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			var n int64
			buf := make([]byte, 64<<10)
			for n < total {
				<-tick.C // about 12 MB/s: the transfer takes several stall timeouts
				k, err := client.Read(buf)
				n += int64(k)
				if err != nil {
					break
				}
			}
			read <- n
		}()
		start := time.Now()
		for sent := 0; sent < total; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				t.Fatalf("after %d bytes and %v: %v", sent, time.Since(start), err)
			}
		}
		if n := <-read; n < total {
			t.Errorf("read %d bytes, want %d", n, total)
		}
		if d := time.Since(start); d < 2*stall {
			t.Logf("the transfer took %v, under two stall timeouts: the test proves little on this machine", d)
		}
	})
}
