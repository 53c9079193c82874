package credential

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/testkit"
)

const (
	hashA = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	hashB = "$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0b3RoZXJzYQ$b3RoZXJoYXNob3RoZXJoYXNob3RoZXJoYXNob3RoZXI"
	ttl   = 2 * time.Minute
)

func newTestCache(t *testing.T, maxEntries int) (*Cache, *testkit.Clock) {
	t.Helper()
	clock := testkit.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	return NewCache(CacheOptions{TTL: ttl, MaxEntries: maxEntries, Now: clock.Now}), clock
}

func TestCache_HitMiss(t *testing.T) {
	t.Parallel()
	c, _ := newTestCache(t, 100)
	c.Remember("alice", "s3cret", hashA, 42)
	tests := []struct {
		name               string
		user, pass, stored string
		wantLine           int64
		wantOK             bool
	}{
		{"same credentials", "alice", "s3cret", hashA, 42, true},
		{"wrong password", "alice", "s3cret!", hashA, 0, false},
		{"other username", "bob", "s3cret", hashA, 0, false},
		{"stored hash changed (password reset or rehash)", "alice", "s3cret", hashB, 0, false},
		{"fields shifted across the boundary", "alices", "3cret", hashA, 0, false},
		{"empty", "", "", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if line, ok := c.Lookup(tt.user, tt.pass, tt.stored); line != tt.wantLine || ok != tt.wantOK {
				t.Errorf("Lookup(%q, %q, …) = %d, %v; want %d, %v", tt.user, tt.pass, line, ok, tt.wantLine, tt.wantOK)
			}
		})
	}
	st := c.Stats()
	if st.Entries != 1 || st.Hits != 1 || st.Misses != 5 {
		t.Errorf("Stats() = %+v, want 1 entry, 1 hit, 5 misses", st)
	}
}

func TestCache_TTL(t *testing.T) {
	t.Parallel()
	c, clock := newTestCache(t, 100)
	c.Remember("alice", "pw", hashA, 1)
	clock.Advance(ttl - time.Nanosecond)
	if _, ok := c.Lookup("alice", "pw", hashA); !ok {
		t.Fatal("Lookup just before the TTL = miss, want hit")
	}
	// A hit does not extend the entry: it still expires ttl after the verification.
	clock.Advance(time.Nanosecond)
	if _, ok := c.Lookup("alice", "pw", hashA); ok {
		t.Fatal("Lookup at the TTL = hit, want miss")
	}
	if n := c.Stats().Entries; n != 0 {
		t.Errorf("Entries = %d after expiry, want 0 (expired entries are dropped)", n)
	}
	// Remembering again (after a fresh verification) starts a new TTL.
	c.Remember("alice", "pw", hashA, 1)
	clock.Advance(ttl / 2)
	c.Remember("alice", "pw", hashA, 1)
	clock.Advance(ttl - time.Second)
	if _, ok := c.Lookup("alice", "pw", hashA); !ok {
		t.Error("Lookup after a re-Remember = miss, want hit")
	}
}

func TestCache_ClockBackwards(t *testing.T) {
	t.Parallel()
	c, clock := newTestCache(t, 100)
	c.Remember("alice", "pw", hashA, 1)
	clock.Advance(-time.Second)
	if _, ok := c.Lookup("alice", "pw", hashA); ok {
		t.Error("Lookup with the clock before verifiedAt = hit, want miss")
	}
}

func TestCache_InvalidateLine(t *testing.T) {
	t.Parallel()
	c, _ := newTestCache(t, 100)
	// Line 1 has three live credential entries (say, an old password still cached and two
	// players); line 2 one.
	c.Remember("alice", "pw1", hashA, 1)
	c.Remember("alice", "pw2", hashA, 1)
	c.Remember("alice2", "pw", hashB, 1)
	c.Remember("bob", "pw", hashA, 2)
	c.InvalidateLine(1)
	for _, cred := range [][3]string{{"alice", "pw1", hashA}, {"alice", "pw2", hashA}, {"alice2", "pw", hashB}} {
		if _, ok := c.Lookup(cred[0], cred[1], cred[2]); ok {
			t.Errorf("Lookup(%s, %s) after InvalidateLine(1) = hit, want miss", cred[0], cred[1])
		}
	}
	if line, ok := c.Lookup("bob", "pw", hashA); line != 2 || !ok {
		t.Errorf("Lookup(bob) = %d, %v; want 2, true", line, ok)
	}
	c.InvalidateLine(99) // unknown line: nothing happens
	if n := c.Stats().Entries; n != 1 {
		t.Errorf("Entries = %d, want 1", n)
	}
}

func TestCache_RememberMovesLine(t *testing.T) {
	t.Parallel()
	c, _ := newTestCache(t, 100)
	c.Remember("alice", "pw", hashA, 1)
	c.Remember("alice", "pw", hashA, 7) // same credentials, now another line (id reuse)
	c.InvalidateLine(1)
	if line, ok := c.Lookup("alice", "pw", hashA); line != 7 || !ok {
		t.Fatalf("Lookup = %d, %v; want 7, true", line, ok)
	}
	c.InvalidateLine(7)
	if _, ok := c.Lookup("alice", "pw", hashA); ok {
		t.Error("Lookup after InvalidateLine(7) = hit, want miss")
	}
}

func TestCache_Purge(t *testing.T) {
	t.Parallel()
	c, _ := newTestCache(t, 100)
	for i := range 10 {
		c.Remember(fmt.Sprint("user", i), "pw", hashA, int64(i%3))
	}
	c.Purge()
	for i := range 10 {
		if _, ok := c.Lookup(fmt.Sprint("user", i), "pw", hashA); ok {
			t.Fatalf("Lookup(user%d) after Purge = hit", i)
		}
	}
	if n := c.Stats().Entries; n != 0 {
		t.Errorf("Entries after Purge = %d, want 0", n)
	}
	c.Remember("user1", "pw", hashA, 1)
	c.InvalidateLine(0) // line lists were reset too
	if line, ok := c.Lookup("user1", "pw", hashA); line != 1 || !ok {
		t.Errorf("Lookup after Purge + Remember = %d, %v; want 1, true", line, ok)
	}
}

func TestCache_SizeBound(t *testing.T) {
	t.Parallel()
	c, _ := newTestCache(t, 3)
	c.Remember("u1", "pw", hashA, 1)
	c.Remember("u2", "pw", hashA, 2)
	c.Remember("u3", "pw", hashA, 3)
	c.Lookup("u1", "pw", hashA) // u1 is now the most recently used: u2 is the oldest
	c.Remember("u4", "pw", hashA, 4)
	want := map[string]bool{"u1": true, "u2": false, "u3": true, "u4": true}
	for u, hit := range want {
		if _, ok := c.Lookup(u, "pw", hashA); ok != hit {
			t.Errorf("Lookup(%s) hit = %v, want %v", u, ok, hit)
		}
	}
	st := c.Stats()
	if st.Entries != 3 || st.Evictions != 1 {
		t.Errorf("Stats() = %+v, want 3 entries, 1 eviction", st)
	}
	// The evicted entry left its line's list too.
	c.InvalidateLine(2)
	if n := c.Stats().Entries; n != 3 {
		t.Errorf("Entries after invalidating the evicted line = %d, want 3", n)
	}
	// Many more inserts keep the bound.
	for i := range 100 {
		c.Remember(fmt.Sprint("x", i), "pw", hashA, int64(i))
	}
	if n := c.Stats().Entries; n != 3 {
		t.Errorf("Entries = %d, want 3", n)
	}
}

func TestCache_TooLongNotCached(t *testing.T) {
	t.Parallel()
	c, _ := newTestCache(t, 10)
	long := strings.Repeat("p", MaxPasswordLen+1)
	c.Remember("alice", long, hashA, 1)
	if _, ok := c.Lookup("alice", long, hashA); ok {
		t.Error("Lookup with an over-long password = hit, want miss")
	}
	if n := c.Stats().Entries; n != 0 {
		t.Errorf("Entries = %d, want 0", n)
	}
}

func TestCache_Concurrent(t *testing.T) {
	t.Parallel()
	c, clock := newTestCache(t, 16)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				u := fmt.Sprint("user", (g*7+i)%40)
				line := int64(len(u))
				switch i % 50 {
				case 0:
					c.InvalidateLine(line)
				case 25:
					if g == 0 {
						c.Purge()
					}
				case 33:
					clock.Advance(time.Second)
				}
				if got, ok := c.Lookup(u, "pw", hashA); ok && got != line {
					t.Errorf("Lookup(%s) = %d, want %d", u, got, line)
					return
				}
				c.Remember(u, "pw", hashA, line)
			}
		})
	}
	wg.Wait()
	if n := c.Stats().Entries; n > 16 {
		t.Errorf("Entries = %d, want <= 16", n)
	}
}

func BenchmarkCacheHit(b *testing.B) {
	c := NewCache(CacheOptions{TTL: ttl, MaxEntries: 10000})
	for i := range 5000 {
		c.Remember(fmt.Sprint("user", i), "pw", hashA, int64(i))
	}
	c.Remember("alice", "correct horse battery staple", hashA, 42)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := c.Lookup("alice", "correct horse battery staple", hashA); !ok {
			b.Fatal("miss")
		}
	}
}

func BenchmarkCacheHitParallel(b *testing.B) {
	c := NewCache(CacheOptions{TTL: ttl, MaxEntries: 10000})
	c.Remember("alice", "correct horse battery staple", hashA, 42)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := c.Lookup("alice", "correct horse battery staple", hashA); !ok {
				b.Error("miss")
				return
			}
		}
	})
}

// TestCache_SharedPepper: caches with the same pepper (two instances of a cluster) derive the
// same keys, so a key one verified serves the other; another pepper, or none, derives others.
func TestCache_SharedPepper(t *testing.T) {
	t.Parallel()
	pepper := Pepper([]byte("token-secret-0123456789abcdef0123456789"))
	a := NewCache(CacheOptions{TTL: ttl, MaxEntries: 10, Pepper: pepper})
	b := NewCache(CacheOptions{TTL: ttl, MaxEntries: 10, Pepper: pepper})
	ka, _ := a.Key("alice", "s3cret", hashA)
	kb, _ := b.Key("alice", "s3cret", hashA)
	if ka != kb {
		t.Fatal("two caches with one pepper derive different keys")
	}
	b.RememberKey(ka, 42) // what a fresh instance does with a record another one wrote
	if line, ok := b.Lookup("alice", "s3cret", hashA); line != 42 || !ok {
		t.Errorf("Lookup after RememberKey = %d, %v; want 42, true", line, ok)
	}
	if _, ok := b.Lookup("alice", "wrong", hashA); ok {
		t.Error("Lookup(wrong password) after RememberKey = hit")
	}
	others := map[string]*Cache{
		"another pepper": NewCache(CacheOptions{TTL: ttl, MaxEntries: 10, Pepper: Pepper([]byte("another-secret-0123456789abcdef0123"))}),
		"no pepper":      NewCache(CacheOptions{TTL: ttl, MaxEntries: 10}),
	}
	for name, c := range others {
		if k, _ := c.Key("alice", "s3cret", hashA); k == ka {
			t.Errorf("%s: same key as the shared pepper's", name)
		}
	}
}

// TestKey_Vector pins the key derivation: every instance of a cluster, of whatever version,
// must compute the same key for the same credentials, or shared records stop matching.
func TestKey_Vector(t *testing.T) {
	t.Parallel()
	if Pepper(nil) != nil {
		t.Error("Pepper(nil) != nil, want nil (a random per-process key)")
	}
	pepper := Pepper([]byte("0123456789abcdef0123456789abcdef"))
	// Computed independently: Python's hmac over the same bytes.
	const wantPepper = "563ec210ce91722d25e55ada980202b23613c9b2d8ab4f02c6e3e3de593924cb"
	c := NewCache(CacheOptions{TTL: ttl, MaxEntries: 1, Pepper: pepper})
	k, ok := c.Key("alice", "s3cret", hashA)
	const wantKey = "f572fb276654df781d306728fe1f4a42204c15252ae199d521f8ce4f065da985"
	if fmt.Sprintf("%x", pepper) != wantPepper || fmt.Sprintf("%x", k) != wantKey || !ok {
		t.Errorf("Pepper = %x, Key = %x, %v; want %s, %s, true", pepper, k, ok, wantPepper, wantKey)
	}
}

// TestCache_FingerprintFollowsKey: an entry warmed from a record (RememberKey: no password,
// so no fingerprint) is found by its Key the first time the credentials come, and by their
// fingerprint from then on; removing an entry removes both ways to it, and wrong credentials
// find neither.
func TestCache_FingerprintFollowsKey(t *testing.T) {
	t.Parallel()
	c, clock := newTestCache(t, 10)
	k, _ := c.Key("alice", "pw", hashA)
	c.RememberKey(k, 7)
	if len(c.byFP) != 0 {
		t.Fatalf("a warmed entry has a fingerprint: %d", len(c.byFP))
	}
	if line, ok := c.Lookup("alice", "pw", hashA); line != 7 || !ok {
		t.Fatalf("Lookup of a warmed entry = %d, %v; want 7, true", line, ok)
	}
	cr, _ := c.Prepare("alice", "pw", hashA)
	if e := c.byFP[cr.fp]; e == nil || e.key != k {
		t.Fatal("the warmed entry did not learn its fingerprint")
	}
	for _, wrong := range [][3]string{{"alice", "pW", hashA}, {"alice", "pw", hashB}, {"alicE", "pw", hashA}} {
		if _, ok := c.Lookup(wrong[0], wrong[1], wrong[2]); ok {
			t.Errorf("Lookup(%q, %q, …) = hit, want miss", wrong[0], wrong[1])
		}
	}
	c.InvalidateLine(7)
	if len(c.byFP) != 0 || len(c.index) != 0 {
		t.Fatalf("after InvalidateLine: %d fingerprints, %d keys; want none", len(c.byFP), len(c.index))
	}
	// Expiry removes the fingerprint as well.
	c.Remember("bob", "pw", hashA, 8)
	clock.Advance(ttl)
	if _, ok := c.Lookup("bob", "pw", hashA); ok {
		t.Fatal("Lookup after the TTL = hit")
	}
	if len(c.byFP) != 0 || len(c.index) != 0 {
		t.Fatalf("after expiry: %d fingerprints, %d keys; want none", len(c.byFP), len(c.index))
	}
}
