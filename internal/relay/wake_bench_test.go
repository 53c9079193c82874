package relay

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkWakeLatency models what a hub's wake-ups do to the rest of the process: 1,000 viewers
// wait on a ring committed at 8 Mbit/s (an 8 KiB publish every 8 ms, the default WakeBytes and
// WakeInterval), and each wake-up costs a viewer 30 µs of CPU (its write of about 100 KB). Each op
// is one ping-pong over loopback TCP, a goroutine readied by the network poller, as a joiner's
// accept, request and lease answer are; it reports that round trip's p50 and p99.
//
//	cohorts    the viewers placed as Subscribe places them (wakeCohorts groups, woken in turn)
//	one-group  every viewer in one cohort: all woken at once, ten times a second (before cohorts)
func BenchmarkWakeLatency(b *testing.B) {
	for _, bc := range []struct {
		name   string
		spread bool
	}{{"cohorts", true}, {"one-group", false}} {
		b.Run(bc.name, func(b *testing.B) { benchWakeLatency(b, bc.spread) })
	}
}

func benchWakeLatency(b *testing.B, spread bool) {
	const viewers, work = 1000, 30 * time.Microsecond
	r := newRing(348*packetSize, 16, time.Minute)
	r.wakeBytes, r.wakeEvery = 128<<10, 100*time.Millisecond
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range viewers {
		v := &Viewer{}
		r.mu.Lock()
		r.place(v)
		r.mu.Unlock()
		if !spread {
			v.cohort = 0
		}
		wg.Go(func() { wakeModelViewer(r, v.cohort, work, stop) })
	}
	wg.Go(func() { wakeModelCommits(r, stop) })
	defer func() { close(stop); r.close(); wg.Wait() }()

	ping, pong := loopbackPair(b)
	defer ping.Close()
	defer pong.Close()
	wg.Go(func() { echo(pong) })
	var rtts []time.Duration
	buf := make([]byte, 1)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := ping.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := ping.Read(buf); err != nil {
			b.Fatal(err)
		}
		rtts = append(rtts, time.Since(start))
		time.Sleep(time.Millisecond) // sample across the wake-up period
	}
	b.StopTimer()
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(rtts[len(rtts)*99/100].Microseconds()), "p99-µs")
}

// wakeModelViewer waits for its cohort's wake-ups and spends work of CPU on each, until stop.
func wakeModelViewer(r *ring, cohort int, work time.Duration, stop <-chan struct{}) {
	for {
		r.mu.Lock()
		ch, done := r.notify[cohort], r.done
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-stop:
			return
		}
		for t := time.Now(); time.Since(t) < work; {
		}
	}
}

// wakeModelCommits commits 8 KiB every 8 ms (8 Mbit/s), starting with a keyframe, until stop.
func wakeModelCommits(r *ring, stop <-chan struct{}) {
	tick := time.NewTicker(8 * time.Millisecond)
	defer tick.Stop()
	head := uint64(8 << 10)
	r.commit(head, []rap{{pos: 0}}, nil, time.Now())
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			head += 8 << 10
			r.commit(head, nil, nil, now)
		}
	}
}

// loopbackPair returns the two ends of a loopback TCP connection.
func loopbackPair(b *testing.B) (net.Conn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		b.Fatal("accept failed")
	}
	return c, s
}

// echo writes back every byte it reads until the connection closes.
func echo(c net.Conn) {
	buf := make([]byte, 1)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}
