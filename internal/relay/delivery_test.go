package relay

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// TestKeepPullsWithoutViewers: a kept stream is pulled with nobody watching, its first viewer
// starts from the GOP cache on the running upstream, the last viewer leaving does not stop it,
// and once it is no longer kept it stops after the grace period.
func TestKeepPullsWithoutViewers(t *testing.T) {
	t.Parallel()
	origin := newTSOrigin(t, clip(t, "clip.ts"), 4)
	ev := newEvents()
	m := newTestManager(t, Options{OnEvent: ev.hook, Grace: 200 * time.Millisecond})
	src := []Source{{URL: origin.URL}}
	m.Keep(map[int64][]Source{5: src, 6: nil}) // a stream without sources is not kept
	if e := ev.wait(t, EventUpstreamOpen); e.StreamID != 5 {
		t.Fatalf("upstream opened for stream %d, want 5", e.StreamID)
	}
	if ids := m.Streams(); len(ids) != 1 || ids[0] != 5 {
		t.Fatalf("Streams() = %v with no viewer, want [5]", ids)
	}
	ctx := t.Context()
	v, err := m.Subscribe(ctx, 5, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	c, _ := watch(ctx, v, 3*packetSize)
	waitFull(t, c)
	checkStart(t, c.bytes()[:len(c.bytes())/packetSize*packetSize])
	v.Close()
	m.Keep(map[int64][]Source{5: src}) // the same set again: nothing changes
	if got := origin.conns.Load(); got != 1 {
		t.Fatalf("upstream connections = %d, want 1 (kept, watched, left, kept again)", got)
	}
	select {
	case e := <-ev.ch:
		if e.Type == EventHubStop {
			t.Fatal("a kept hub stopped when its last viewer left")
		}
	default:
	}
	m.Keep(nil)
	if e := ev.wait(t, EventHubStop); e.StreamID != 5 {
		t.Fatalf("hub %d stopped, want 5", e.StreamID)
	}
	if ids := m.Streams(); len(ids) != 0 {
		t.Fatalf("Streams() = %v after Keep(nil) and the grace period, want none", ids)
	}
}

// TestStalledWriterIsCut: a client that accepts nothing is ended by the hub's watchdog after
// WriteStall (its write deadline is put in the past), not by a deadline renewed per write.
func TestStalledWriterIsCut(t *testing.T) {
	t.Parallel()
	origin := newTSOrigin(t, clip(t, "clip.ts"), 4)
	m := newTestManager(t, Options{WriteStall: 300 * time.Millisecond})
	ctx := t.Context()
	v, err := m.Subscribe(ctx, 8, []Source{{URL: origin.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	client, server := net.Pipe() // synchronous: every write blocks until the client reads
	defer client.Close()
	defer server.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := v.WriteTo(ctx, server, nil)
		errc <- err
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrViewerStalled) || !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
			t.Fatalf("WriteTo = %v, want ErrViewerStalled wrapping the write's timeout", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("stalled viewer still writing")
	}
	if s := m.Stats(); s.ViewerStalls != 1 {
		t.Errorf("Stats().ViewerStalls = %d, want 1", s.ViewerStalls)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// pacingHub is a hub without goroutines holding n bytes of the clip, the first a keyframe, with a
// burst budget of rate bytes/s on a clock that only moves when told to.
func pacingHub(t *testing.T, rate int64, n int) (*hub, *time.Time) {
	t.Helper()
	now := time.Unix(1000, 0)
	m := newTestManager(t, Options{BurstRate: rate, Now: func() time.Time { return now }, MaxSkips: -1})
	h := newHub(m, 1, []Source{{URL: "test"}})
	data := clip(t, "clip.ts")
	for len(data) < n {
		data = append(data, data...)
	}
	h.ing.write(data[:n/packetSize*packetSize])
	return h, &now
}

// take runs one take of v and returns its size (0: it would wait).
func take(v *Viewer) uint64 {
	r := v.h.ring
	r.mu.Lock()
	defer r.mu.Unlock()
	from := v.pos
	if !v.take(r) {
		return 0
	}
	v.release()
	return v.pos - from
}

// TestJoinBurstIsPaced: a viewer far behind the live edge (a joiner's GOP cache) gets joinBurst at
// once and the rest of its backlog only from the shared budget, at most once per wake-up, while a
// viewer at the live edge always gets everything new, however empty the budget.
func TestJoinBurstIsPaced(t *testing.T) {
	t.Parallel()
	const depth = 64 << 10 // the budget holds a quarter second of its rate
	h, now := pacingHub(t, 4*depth, 2<<20)
	r := h.ring
	joiner := &Viewer{h: h, m: h.m, done: make(chan struct{})}
	live := &Viewer{h: h, m: h.m, done: make(chan struct{})}
	r.mu.Lock()
	joiner.startAt(r, r.oldest())
	live.startAt(r, r.head)
	backlog := r.head - r.oldest()
	r.mu.Unlock()
	if backlog < joinBurst+4*depth {
		t.Fatalf("test setup: backlog %d bytes, want more than %d", backlog, joinBurst+4*depth)
	}

	want := uint64((joinBurst + depth) / packetSize * packetSize)
	if got := take(joiner); got != want {
		t.Fatalf("first take = %d bytes, want joinBurst+budget = %d", got, want)
	}
	if got := take(joiner); got != 0 {
		t.Fatalf("second take in the same wake-up = %d bytes, want 0 (budget drawn, no credit)", got)
	}
	// New data, no wake-up and no time: the joiner gets exactly the new bytes, so its lag stays.
	h.ing.write(clip(t, "clip.ts")[:100*packetSize])
	if got := take(joiner); got != 100*packetSize {
		t.Fatalf("take after 100 new packets = %d bytes, want %d (the live rate, no budget)", got, 100*packetSize)
	}
	if got := take(live); got != 100*packetSize {
		t.Fatalf("live viewer's take = %d bytes, want the %d new", got, 100*packetSize)
	}
	// A wake-up a second later: the budget has refilled to its depth, and the joiner may draw again.
	*now = now.Add(time.Second)
	r.mu.Lock()
	close(r.wakeLocked())
	r.mu.Unlock()
	if got := take(joiner); got != depth/packetSize*packetSize {
		t.Fatalf("take after a wake-up = %d bytes, want the refilled budget %d", got, depth/packetSize*packetSize)
	}
}

// TestCommitWakesInBatches: publishing wakes the viewers only once WakeBytes are new or
// WakeInterval has passed, but at once for the stream's first keyframe and for a new program.
func TestCommitWakesInBatches(t *testing.T) {
	t.Parallel()
	r := newRing(348*packetSize, 16, time.Minute)
	r.wakeBytes, r.wakeEvery = 10*packetSize, time.Second
	at := time.Unix(1000, 0)
	woke := func(head uint64, raps []rap, psi []byte, now time.Time) bool {
		ch := r.notify
		r.commit(head, raps, psi, now)
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	steps := []struct {
		name string
		head uint64
		raps []rap
		psi  []byte
		now  time.Time
		want bool
	}{
		{"first keyframe", 2 * packetSize, []rap{{pos: packetSize}}, nil, at, true},
		{"a few packets", 5 * packetSize, nil, nil, at.Add(100 * time.Millisecond), false},
		{"a later keyframe", 6 * packetSize, []rap{{pos: 5 * packetSize}}, nil, at.Add(200 * time.Millisecond), false},
		{"a new program", 7 * packetSize, nil, []byte{0x47}, at.Add(300 * time.Millisecond), true},
		{"WakeBytes since the last wake-up", 17 * packetSize, nil, nil, at.Add(400 * time.Millisecond), true},
		{"one packet", 18 * packetSize, nil, nil, at.Add(500 * time.Millisecond), false},
		{"WakeInterval since the last wake-up", 19 * packetSize, nil, nil, at.Add(1500 * time.Millisecond), true},
	}
	for _, s := range steps {
		if got := woke(s.head, s.raps, s.psi, s.now); got != s.want {
			t.Errorf("commit (%s) woke = %v, want %v", s.name, got, s.want)
		}
	}
	if r.head != 19*packetSize {
		t.Errorf("head = %d, want every commit readable (%d)", r.head, 19*packetSize)
	}
}
