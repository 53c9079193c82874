package partner

import (
	"net/netip"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/testkit"
)

// TestPermits: a permit is served until its TTL, under the rules it was decided with, and goes
// the moment its line or partner is dropped; a decision begun before a drop is not cached.
func TestPermits(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(time.Unix(1_700_000_000, 0))
	p := NewPermits(clock.Now, 3)
	ip := netip.MustParseAddr("198.51.100.1")
	k := p.Key(1, "#42", 101, ip, "VLC")
	permit := Permit{LineID: 42}
	p.Put(k, permit, 7, p.Begin(), time.Minute)
	if got, ok := p.Get(k, 7); !ok || got != permit {
		t.Fatalf("Get = %+v, %v; want the permit", got, ok)
	}
	if _, ok := p.Get(k, 8); ok {
		t.Fatal("a permit of other rules was served")
	}
	if _, ok := p.Get(p.Key(1, "#42", 101, ip, "Kodi"), 7); ok {
		t.Fatal("a permit of another user agent was served")
	}
	clock.Advance(time.Minute)
	if _, ok := p.Get(k, 7); ok {
		t.Fatal("an expired permit was served")
	}
	gen := p.Begin()
	p.DropLine(43)
	p.Put(k, permit, 7, gen, time.Minute)
	if _, ok := p.Get(k, 7); ok {
		t.Fatal("a decision begun before a drop was cached")
	}
	p.Put(k, permit, 7, p.Begin(), time.Minute)
	p.DropLine(42)
	if _, ok := p.Get(k, 7); ok || p.Len() != 0 {
		t.Fatal("a permit outlived its line's change")
	}
	for i := range int64(4) { // the fourth does not fit
		p.Put(p.Key(2, "#1", i, ip, ""), Permit{LineID: 1}, 7, p.Begin(), time.Minute)
	}
	if p.Len() != 3 {
		t.Fatalf("Len = %d, want the bound 3", p.Len())
	}
	// Full: expired entries make room, found by a sweep at most once a second.
	clock.Advance(time.Minute)
	fresh := p.Key(2, "#1", 10, ip, "")
	p.Put(fresh, Permit{LineID: 1}, 7, p.Begin(), time.Minute)
	if _, ok := p.Get(fresh, 7); !ok || p.Len() != 1 {
		t.Fatalf("after the sweep: cached %v, Len %d; want the new permit alone", ok, p.Len())
	}
	for i := range int64(2) {
		p.Put(p.Key(2, "#1", 20+i, ip, ""), Permit{LineID: 1}, 7, p.Begin(), time.Second)
	}
	late := p.Key(2, "#1", 30, ip, "")
	p.Put(late, Permit{LineID: 1}, 7, p.Begin(), time.Minute)
	if _, ok := p.Get(late, 7); ok || p.Len() != 3 {
		t.Fatalf("full, swept just now: cached %v, Len %d; want it refused without a sweep", ok, p.Len())
	}
	clock.Advance(time.Second) // the two short ones expired, the last sweep is a second old
	p.Put(late, Permit{LineID: 1}, 7, p.Begin(), time.Minute)
	if _, ok := p.Get(late, 7); !ok || p.Len() != 2 {
		t.Fatalf("a second later: cached %v, Len %d; want the expired swept and it cached", ok, p.Len())
	}
	p.DropPartner(2)
	if p.Len() != 0 {
		t.Fatalf("Len after the partner's drop = %d, want 0", p.Len())
	}
	p.Put(k, permit, 7, p.Begin(), 0)
	if p.Len() != 0 {
		t.Fatal("a TTL of 0 cached")
	}
}

// TestLimiter: denials drain a partner's bucket; an empty one refuses until it refills;
// partners do not share.
func TestLimiter(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(time.Unix(1_700_000_000, 0))
	l := NewLimiter(clock.Now)
	st := Settings{DenialsPerSecond: 1, DenialsBurst: 2}
	for range 2 {
		if ok, _ := l.Allow(1, st); !ok {
			t.Fatal("refused within the burst")
		}
		l.Denied(1, st)
	}
	ok, wait := l.Allow(1, st)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("Allow after the burst = %v, %s; want a refusal for up to 1 s", ok, wait)
	}
	if ok, _ := l.Allow(2, st); !ok {
		t.Fatal("another partner was refused")
	}
	clock.Advance(wait)
	if ok, _ := l.Allow(1, st); !ok {
		t.Fatal("still refused after the wait it named")
	}
	if ok, _ := l.Allow(1, Settings{}); !ok {
		t.Fatal("refused with the bound off")
	}
}
