package relay

import (
	"context"
	"errors"
	"net"
	"slices"
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
	firstViewerOfPulled(t, m, ev, 5, src).Close()
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

// firstViewerOfPulled checks that stream id, started with no viewer (kept or warmed), opened its
// upstream and is the only one running, then subscribes a viewer and checks that it starts at a
// keyframe; the caller closes the viewer.
func firstViewerOfPulled(t *testing.T, m *Manager, ev *events, id int64, src []Source) *Viewer {
	t.Helper()
	if e := ev.wait(t, EventUpstreamOpen); e.StreamID != id {
		t.Fatalf("upstream opened for stream %d, want %d", e.StreamID, id)
	}
	if ids := m.Streams(); len(ids) != 1 || ids[0] != id {
		t.Fatalf("Streams() = %v with no viewer, want [%d]", ids, id)
	}
	ctx := t.Context()
	v, err := m.Subscribe(ctx, id, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.WaitReady(ctx); err != nil {
		v.Close()
		t.Fatal(err)
	}
	c, _ := watch(ctx, v, 3*packetSize)
	waitFull(t, c)
	checkStart(t, c.bytes()[:len(c.bytes())/packetSize*packetSize])
	return v
}

// TestWarmPullsUntilHold: a warmed stream is pulled with nobody watching, its first viewer
// starts from the GOP cache of that same upstream connection, warming it again while it runs
// changes nothing, and a warmed stream nobody joins stops once the hold is over, not at the
// (shorter) grace period.
func TestWarmPullsUntilHold(t *testing.T) {
	t.Parallel()
	origin := newTSOrigin(t, clip(t, "clip.ts"), 4)
	ev := newEvents()
	m := newTestManager(t, Options{OnEvent: ev.hook, Grace: 50 * time.Millisecond})
	src := []Source{{URL: origin.URL}}
	m.Warm(map[int64][]Source{5: src, 6: nil}, time.Minute) // a stream without sources is not warmed
	v := firstViewerOfPulled(t, m, ev, 5, src)
	m.Warm(map[int64][]Source{5: src}, time.Minute)
	v.Close()
	if got := origin.conns.Load(); got != 1 {
		t.Fatalf("upstream connections = %d, want 1 (warmed, watched, warmed again)", got)
	}

	lone := newTestManager(t, Options{OnEvent: ev.hook, Grace: 50 * time.Millisecond})
	const hold = 400 * time.Millisecond
	start := time.Now()
	lone.Warm(map[int64][]Source{7: src}, hold)
	for {
		e := ev.wait(t, EventHubStop)
		if e.StreamID != 7 {
			continue // stream 5 of the first manager, whose hold is a minute, stops only at its Close
		}
		if took := time.Since(start); took < hold {
			t.Fatalf("a warmed stream nobody joined stopped after %v, before its hold of %v", took, hold)
		}
		break
	}
	if ids := lone.Streams(); len(ids) != 0 {
		t.Fatalf("Streams() = %v after the hold, want none", ids)
	}
	lone.Close()
	lone.Warm(map[int64][]Source{8: src}, hold)
	if ids := lone.Streams(); len(ids) != 0 {
		t.Fatalf("Streams() = %v after Warm on a closed manager, want none", ids)
	}
}

// TestWatched: Watched lists the streams with a viewer, and those whose last viewer left within
// the grace period, but not a stream only warmed or kept.
func TestWatched(t *testing.T) {
	t.Parallel()
	origin := newTSOrigin(t, clip(t, "clip.ts"), 4)
	m := newTestManager(t, Options{Grace: time.Minute})
	src := []Source{{URL: origin.URL}}
	m.Warm(map[int64][]Source{5: src}, time.Minute)
	m.Keep(map[int64][]Source{6: src})
	if ids := m.Watched(); len(ids) != 0 {
		t.Fatalf("Watched() = %v with a warmed and a kept stream and no viewer, want none", ids)
	}
	ctx := t.Context()
	for _, id := range []int64{7, 5} {
		v, err := m.Subscribe(ctx, id, src)
		if err != nil {
			t.Fatal(err)
		}
		v.Close()
	}
	if ids := m.Watched(); !slices.Equal(ids, []int64{5, 7}) {
		t.Fatalf("Watched() = %v after viewers of 7 and 5 left within the grace period, want [5 7]", ids)
	}
	if ids := m.Streams(); !slices.Equal(ids, []int64{5, 6, 7}) {
		t.Fatalf("Streams() = %v, want [5 6 7]", ids)
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
	ws := r.wakeAllLocked()
	r.mu.Unlock()
	ws.close()
	if got := take(joiner); got != depth/packetSize*packetSize {
		t.Fatalf("take after a wake-up = %d bytes, want the refilled budget %d", got, depth/packetSize*packetSize)
	}
}

// TestCommitWakesInBatches: publishing wakes the viewers only once enough is new or enough time
// has passed, a cohort at a time (one per WakeBytes/wakeCohorts new or WakeInterval/wakeCohorts
// passed, each cohort once per WakeBytes or WakeInterval), but every viewer at once for the
// stream's first keyframe and for a new program.
func TestCommitWakesInBatches(t *testing.T) {
	t.Parallel()
	const step = 10 * packetSize // WakeBytes / wakeCohorts
	r := newRing(348*packetSize, 16, time.Minute)
	r.wakeBytes, r.wakeEvery = wakeCohorts*step, wakeCohorts*time.Second
	at := time.Unix(1000, 0)
	var order []int // the cohorts woken, in turn
	woken := func(head uint64, raps []rap, psi []byte, now time.Time) int {
		before := r.notify
		r.commit(head, raps, psi, now)
		n := 0
		for c, ch := range before {
			select {
			case <-ch:
				n++
				order = append(order, c)
			default:
			}
		}
		return n
	}
	head := func(packets int) uint64 { return uint64(packets) * packetSize }
	steps := []struct {
		name string
		head uint64
		raps []rap
		psi  []byte
		now  time.Time
		want int
	}{
		{"first keyframe", head(2), []rap{{pos: packetSize}}, nil, at, wakeCohorts},
		{"a few packets", head(5), nil, nil, at.Add(100 * time.Millisecond), 0},
		{"a later keyframe", head(6), []rap{{pos: 5 * packetSize}}, nil, at.Add(200 * time.Millisecond), 0},
		{"a new program", head(7), nil, []byte{0x47}, at.Add(300 * time.Millisecond), wakeCohorts},
		{"a cohort's share of WakeBytes", head(17), nil, nil, at.Add(400 * time.Millisecond), 1},
		{"two shares", head(37), nil, nil, at.Add(500 * time.Millisecond), 2},
		{"one packet", head(38), nil, nil, at.Add(600 * time.Millisecond), 0},
		{"a cohort's share of WakeInterval", head(39), nil, nil, at.Add(1600 * time.Millisecond), 1},
		{"more than WakeBytes", head(1000), nil, nil, at.Add(1700 * time.Millisecond), wakeCohorts},
	}
	for _, s := range steps {
		if got := woken(s.head, s.raps, s.psi, s.now); got != s.want {
			t.Errorf("commit (%s) woke %d cohorts, want %d", s.name, got, s.want)
		}
	}
	if r.head != head(1000) {
		t.Errorf("head = %d, want every commit readable (%d)", r.head, head(1000))
	}
	// The partial wake-ups took the cohorts in turn after the last full one.
	if got := order[2*wakeCohorts : 2*wakeCohorts+4]; !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("cohorts woken one at a time = %v, want [0 1 2 3]", got)
	}
}

// TestCommitWakesCohortsInTurn: at a steady rate, one cohort is woken per WakeBytes/wakeCohorts,
// in turn, each once per WakeBytes, so no wake-up puts every viewer's goroutine in the run queue
// at once.
func TestCommitWakesCohortsInTurn(t *testing.T) {
	t.Parallel()
	const step = 10 * packetSize
	r := newRing(348*packetSize, 16, time.Minute)
	r.wakeBytes, r.wakeEvery = wakeCohorts*step, time.Hour
	at := time.Unix(1000, 0)
	head := uint64(2 * packetSize)
	r.commit(head, []rap{{pos: packetSize}}, nil, at) // every cohort: the first keyframe
	counts := make([]int, wakeCohorts)
	for i := range 6 * wakeCohorts {
		before := r.notify
		head += step / 2 // two commits per cohort turn
		r.commit(head, nil, nil, at)
		var woken []int
		for c, ch := range before {
			select {
			case <-ch:
				woken = append(woken, c)
				counts[c]++
			default:
			}
		}
		want := []int{}
		if i%2 == 1 {
			want = []int{i / 2 % wakeCohorts}
		}
		if !slices.Equal(woken, want) && !(len(woken) == 0 && len(want) == 0) {
			t.Fatalf("commit %d woke cohorts %v, want %v", i+1, woken, want)
		}
	}
	for c, n := range counts {
		if n != 3 {
			t.Errorf("cohort %d woken %d times in three periods, want 3", c, n)
		}
	}
}

// TestViewersArePlacedInCohorts: a hub's viewers are spread over the cohorts round robin.
func TestViewersArePlacedInCohorts(t *testing.T) {
	t.Parallel()
	r := newRing(348*packetSize, 16, time.Minute)
	per := make([]int, wakeCohorts)
	for range 3 * wakeCohorts {
		v := &Viewer{}
		r.place(v)
		per[v.cohort]++
	}
	for c, n := range per {
		if n != 3 {
			t.Errorf("cohort %d holds %d of %d viewers, want 3", c, n, 3*wakeCohorts)
		}
	}
}
