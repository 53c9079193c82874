package partner

import (
	"hash/maphash"
	"net/netip"
	"sync"
	"time"

	"github.com/xtreamd/xtreamd/internal/token"
)

// Permits cache the permits of decisions (seed 001: "cache permit decisions in memory"), per
// partner, line, resource and viewer (address and user agent: both are steps of the check), for
// Settings.PermitTTL. An entry is dropped the moment its line changes (DropLine, on the line
// change), its partner changes (DropPartner), or the rules every decision depends on change
// (the checker's RulesVersion, compared at each lookup). Denials are never cached: a fixed line
// must be permitted at once.
//
// A permit's connection count (step 9) is as it was when it was decided; the stream open
// decides that again under the line's lock, so a cached permit never lets a line past its
// limit.
type Permits struct {
	now  func() time.Time
	max  int
	seed maphash.Seed

	mu      sync.RWMutex
	entries map[PermitKey]permitEntry
	byLine  map[int64]map[PermitKey]struct{}
	// gen counts drops: a decision that began before one is not cached (it may have read the
	// line as it was before the change).
	gen uint64
	// swept is when a full cache was last swept for expired entries: at most once per
	// sweepEvery, so a cache full of live permits costs a Put nothing (it was one pass over
	// every entry per Put: 100 of them per preauthorization of a new viewer).
	swept time.Time
}

// sweepEvery is how often a full cache looks for expired entries to make room.
const sweepEvery = time.Second

// PermitKey names one cached decision.
type PermitKey struct {
	Partner  int64
	Line     uint64 // the hash of how the request names the line (by id or username)
	Resource int64
	IP       netip.Addr
	Viewer   uint64 // the hash of the rest the check reads of the viewer: user agent, format
}

// Permit is what a cached decision says.
type Permit struct {
	LineID     int64
	Credential token.Credential // the issuing credential of the decision
}

type permitEntry struct {
	permit  Permit // permit.LineID indexes it in byLine
	rules   uint64
	expires time.Time
}

// NewPermits returns an empty cache of at most max entries.
func NewPermits(now func() time.Time, max int) *Permits {
	return &Permits{now: now, max: max, seed: maphash.MakeSeed(), entries: map[PermitKey]permitEntry{},
		byLine: map[int64]map[PermitKey]struct{}{}}
}

// Key is the key of a decision of partner for the line named line ("#42", "u:alice"), of
// resource, for the viewer at ip whose other particulars (user agent, format) are viewer.
func (p *Permits) Key(partner int64, line string, resource int64, ip netip.Addr, viewer string) PermitKey {
	return PermitKey{Partner: partner, Line: maphash.String(p.seed, line), Resource: resource, IP: ip.Unmap(),
		Viewer: maphash.String(p.seed, viewer)}
}

// Begin is read before a decision that may be cached: Put refuses it if anything was dropped
// since.
func (p *Permits) Begin() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.gen
}

// Get returns the cached permit of k, decided under rules version rules.
func (p *Permits) Get(k PermitKey, rules uint64) (Permit, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	e, ok := p.entries[k]
	if !ok || e.rules != rules || !p.now().Before(e.expires) {
		return Permit{}, false
	}
	return e.permit, true
}

// Put caches a permit decided under rules for ttl, unless something was dropped since gen
// (Begin), ttl is not positive or the cache is full (of live entries, or swept less than
// sweepEvery ago).
func (p *Permits) Put(k PermitKey, permit Permit, rules, gen uint64, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if gen != p.gen {
		return
	}
	if _, ok := p.entries[k]; !ok && len(p.entries) >= p.max {
		if now.Sub(p.swept) < sweepEvery {
			return
		}
		p.swept = now
		p.dropExpiredLocked(now)
		if len(p.entries) >= p.max {
			return
		}
	}
	if old, ok := p.entries[k]; ok && old.permit.LineID != permit.LineID {
		p.deleteLocked(k) // the name now names another line
	}
	p.entries[k] = permitEntry{permit: permit, rules: rules, expires: now.Add(ttl)}
	keys := p.byLine[permit.LineID]
	if keys == nil {
		keys = map[PermitKey]struct{}{}
		p.byLine[permit.LineID] = keys
	}
	keys[k] = struct{}{}
}

func (p *Permits) dropExpiredLocked(now time.Time) {
	for k, e := range p.entries {
		if !now.Before(e.expires) {
			p.deleteLocked(k)
		}
	}
}

func (p *Permits) deleteLocked(k PermitKey) {
	e, ok := p.entries[k]
	if !ok {
		return
	}
	delete(p.entries, k)
	if keys := p.byLine[e.permit.LineID]; keys != nil {
		delete(keys, k)
		if len(keys) == 0 {
			delete(p.byLine, e.permit.LineID)
		}
	}
}

// DropLine drops the permits of a line (it changed).
func (p *Permits) DropLine(lineID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	for k := range p.byLine[lineID] {
		delete(p.entries, k)
	}
	delete(p.byLine, lineID)
}

// DropPartner drops the permits of a partner (0: of every partner).
func (p *Permits) DropPartner(partnerID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	if partnerID == 0 {
		clear(p.entries)
		clear(p.byLine)
		return
	}
	for k := range p.entries {
		if k.Partner == partnerID {
			p.deleteLocked(k)
		}
	}
}

// Len is the number of cached permits.
func (p *Permits) Len() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.entries)
}
