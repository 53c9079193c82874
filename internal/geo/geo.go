// Package geo answers GeoIP questions for the access check: the country of a client IP (step 6,
// COUNTRY_DISALLOW) and its ISP or autonomous system (step 8, ISP_LOCK_FAILED).
//
// It reads MaxMind DB files (GeoLite2/GeoIP2 or DB-IP) from configured paths and reloads them when
// they change, without a restart. A lookup is lock-free: it loads the current database through an
// atomic pointer that a reload swaps. A database that cannot be loaded never takes down the
// previous good one; a slot that never loaded reports ok=false so callers can fail closed.
package geo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/geoip2-golang"
	"github.com/oschwald/maxminddb-golang"
)

// DefaultPollInterval is how often Run looks at the files for a change.
const DefaultPollInterval = 5 * time.Second

// maxCachedCodes bounds the per-database cache of decoded country codes. MaxMind databases are
// normalised (every network of one country points at one shared record), so a country database
// has a few hundred distinct records; a city database has many more, and only the first ones
// seen are cached, the rest are decoded on each lookup.
const maxCachedCodes = 4096

// ISP is what an ISP or ASN database knows about an address.
type ISP struct {
	// Name is the ISP name (GeoIP2-ISP "isp"); ASN-only databases (GeoLite2-ASN, DB-IP ASN) have
	// none, so it is their autonomous_system_organization instead.
	Name string
	// ASN is the autonomous system number, 0 when unknown.
	ASN uint32
	// Organization is the organisation holding the address (GeoIP2-ISP "organization"), else the
	// autonomous_system_organization.
	Organization string
}

// Status describes both database slots, for a readiness page or metrics.
type Status struct {
	Country SourceStatus
	ISP     SourceStatus
}

// SourceStatus describes one database slot.
type SourceStatus struct {
	// Path is the configured file; "" means the slot is not configured.
	Path string
	// Loaded reports whether lookups are answered from a database (possibly an older good one
	// when Error is set).
	Loaded bool
	// DatabaseType is the metadata database_type of the loaded file, e.g. "GeoLite2-Country".
	DatabaseType string
	// BuildTime is the metadata build_epoch of the loaded file.
	BuildTime time.Time
	// LoadedAt is when the loaded file was read.
	LoadedAt time.Time
	// Error is the last load failure; "" when the last attempt succeeded.
	Error string
	// LookupErrors counts lookups the loaded databases could not answer (e.g. an IPv6 address in
	// an IPv4-only file); they were answered as "not found".
	LookupErrors uint64
}

// Option configures a DB.
type Option func(*DB)

// WithPollInterval sets how often Run checks the files; d <= 0 keeps DefaultPollInterval.
func WithPollInterval(d time.Duration) Option {
	return func(db *DB) {
		if d > 0 {
			db.interval = d
		}
	}
}

// WithClock sets the clock used for LoadedAt.
func WithClock(now func() time.Time) Option {
	return func(db *DB) {
		if now != nil {
			db.now = now
		}
	}
}

// DB holds the country and ISP databases. Its lookups are safe for concurrent use.
type DB struct {
	log      *slog.Logger
	now      func() time.Time
	interval time.Duration
	country  *source
	isp      *source
}

// New loads the configured databases; an empty path leaves that slot unconfigured. A file that
// cannot be loaded is logged once and retried by Run when it changes; New itself never fails.
func New(countryPath, ispPath string, log *slog.Logger, opts ...Option) *DB {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := &DB{log: log, now: time.Now, interval: DefaultPollInterval}
	for _, o := range opts {
		o(db)
	}
	db.country = &source{db: db, slot: "country", path: countryPath, open: openCountry}
	db.isp = &source{db: db, slot: "isp", path: ispPath, open: openISP}
	db.Reload()
	return db
}

// Country returns the ISO 3166-1 alpha-2 code of ip's country ("" when the database does not
// know ip). ok is false when no country database is loaded: callers with a country rule must
// then refuse. When a record has no country (some anycast and satellite networks) the registered
// country is returned instead.
func (db *DB) Country(ip netip.Addr) (code string, ok bool) {
	l := db.country.cur.Load()
	if l == nil {
		return "", false
	}
	return l.countryCode(ip), true
}

// ISP returns the ISP or autonomous system of ip (zero ISP when the database does not know ip).
// ok is false when no ISP/ASN database is loaded.
func (db *DB) ISP(ip netip.Addr) (ISP, bool) {
	l := db.isp.cur.Load()
	if l == nil {
		return ISP{}, false
	}
	return l.ispOf(ip), true
}

// Status reports what each slot has loaded.
func (db *DB) Status() Status {
	return Status{Country: db.country.status(), ISP: db.isp.status()}
}

// Run checks both files every poll interval and reloads the ones that changed, until ctx ends.
// It returns nil then. With no path configured it returns at once.
func (db *DB) Run(ctx context.Context) error {
	if db.country.path == "" && db.isp.path == "" {
		return nil
	}
	t := time.NewTicker(db.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			db.Check()
		}
	}
}

// Check reloads each configured file whose identity, size or modification time differs from the
// last attempt (a file replaced by rename, rewritten, or appearing or vanishing). It reports
// whether it attempted a reload. Run calls it; tests and an admin "reload now" may call it too.
func (db *DB) Check() bool {
	a := db.country.check(false)
	b := db.isp.check(false)
	return a || b
}

// Reload re-reads every configured file now, changed or not.
func (db *DB) Reload() {
	db.country.check(true)
	db.isp.check(true)
}

// source is one database slot: its path, the loaded database and the bookkeeping that keeps
// reload logging to one line per change of state.
type source struct {
	db   *DB
	slot string // "country" or "isp", for logs and errors
	path string
	open func(b []byte) (*loaded, error)

	cur          atomic.Pointer[loaded]
	lookupErrors atomic.Uint64 // survives reloads: a metrics counter

	lastErr atomic.Pointer[string] // last load failure, nil after a success; Status reads it unlocked

	mu      sync.Mutex // serialises check (a reload may read a large file); guards the fields below
	lastSig fileSig
	tried   bool
}

// fileSig is what a poll compares: identity (device+inode via os.SameFile), size and mtime.
type fileSig struct {
	fi     os.FileInfo
	errStr string
}

func (s fileSig) same(o fileSig) bool {
	if s.fi == nil || o.fi == nil {
		return s.fi == nil && o.fi == nil && s.errStr == o.errStr
	}
	return os.SameFile(s.fi, o.fi) && s.fi.Size() == o.fi.Size() && s.fi.ModTime().Equal(o.fi.ModTime())
}

func (s *source) check(force bool) bool {
	if s.path == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var sig fileSig
	fi, err := os.Stat(s.path)
	if err != nil {
		sig.errStr = err.Error()
	} else {
		sig.fi = fi
	}
	if !force && s.tried && sig.same(s.lastSig) {
		return false
	}
	s.tried, s.lastSig = true, sig
	l, err := s.load(err)
	if err != nil {
		s.fail(err)
		return true
	}
	s.cur.Store(l)
	s.lastErr.Store(nil)
	s.db.log.Info("geoip database loaded", "slot", s.slot, "path", s.path, "type", l.dbType,
		"build_time", l.buildTime.Format(time.RFC3339))
	return true
}

func (s *source) load(statErr error) (*loaded, error) {
	if statErr != nil {
		return nil, fmt.Errorf("geo: load %s database: %w", s.slot, statErr)
	}
	// Read the file into memory rather than mmap it: an operator (or geoipupdate) rewriting the
	// file in place must not be able to change or unmap the bytes under a running lookup. The
	// old slice stays alive until the last lookup that loaded it returns.
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("geo: load %s database: %w", s.slot, err)
	}
	l, err := s.open(b)
	if err != nil {
		return nil, fmt.Errorf("geo: load %s database %s: %w", s.slot, s.path, err)
	}
	l.src = s
	l.loadedAt = s.db.now()
	return l, nil
}

// fail logs a load failure once: a repeat of the same failure (the same corrupt file polled
// again after a forced reload, say) stays quiet.
func (s *source) fail(err error) {
	msg := err.Error()
	if prev := s.lastErr.Load(); prev != nil && *prev == msg {
		return
	}
	s.lastErr.Store(&msg)
	if s.cur.Load() != nil {
		s.db.log.Warn("geoip database reload failed, keeping the previous one", "slot", s.slot, "path", s.path, "err", err)
		return
	}
	s.db.log.Warn("geoip database not loaded", "slot", s.slot, "path", s.path, "err", err)
}

func (s *source) status() SourceStatus {
	st := SourceStatus{Path: s.path, LookupErrors: s.lookupErrors.Load()}
	if l := s.cur.Load(); l != nil {
		st.Loaded, st.DatabaseType, st.BuildTime, st.LoadedAt = true, l.dbType, l.buildTime, l.loadedAt
	}
	if e := s.lastErr.Load(); e != nil {
		st.Error = *e
	}
	return st
}

// ispKind says which record layout an ISP-slot database has.
type ispKind uint8

const (
	kindISP ispKind = iota + 1 // GeoIP2-ISP, GeoIP2-Precision-ISP
	kindASN                    // GeoLite2-ASN, DBIP-ASN-Lite
)

// loaded is one successfully opened file. It is immutable once published, except for the
// append-only code cache.
type loaded struct {
	src       *source
	geo       *geoip2.Reader    // type checks and ISP/ASN records
	mmdb      *maxminddb.Reader // the hot country path: offset lookup, no record decoding
	kind      ispKind
	dbType    string
	buildTime time.Time
	loadedAt  time.Time

	codes  sync.Map // record offset (uintptr) → country code (string)
	ncodes atomic.Int32
}

// probe looks a few addresses up once after opening a file, to refuse a file whose tree or data
// is damaged before it replaces a good one.
func (l *loaded) probe(lookup func(netip.Addr) error) error {
	for _, ip := range [...]netip.Addr{
		netip.AddrFrom4([4]byte{1, 1, 1, 1}),
		netip.AddrFrom4([4]byte{8, 8, 8, 8}),
		netip.AddrFrom4([4]byte{127, 0, 0, 1}),
		netip.AddrFrom16([16]byte{0x20, 0x01, 0x48, 0x60, 15: 0x88}),
	} {
		if l.mmdb.Metadata.IPVersion == 4 && ip.Is6() {
			continue
		}
		if err := lookup(ip); err != nil {
			return fmt.Errorf("probe %s: %w", ip, err)
		}
	}
	return nil
}

func openCommon(b []byte) (*loaded, error) {
	g, err := geoip2.FromBytes(b)
	if err != nil {
		return nil, err
	}
	m, err := maxminddb.FromBytes(b) // same bytes, no copy: only the metadata is decoded again
	if err != nil {
		return nil, err
	}
	md := m.Metadata
	return &loaded{geo: g, mmdb: m, dbType: md.DatabaseType, buildTime: time.Unix(int64(md.BuildEpoch), 0).UTC()}, nil
}

func openCountry(b []byte) (*loaded, error) {
	l, err := openCommon(b)
	if err != nil {
		return nil, err
	}
	var ime geoip2.InvalidMethodError
	if _, err := l.geo.Country(net.IPv4(127, 0, 0, 1)); errors.As(err, &ime) {
		return nil, fmt.Errorf("database type %q has no country data", l.dbType)
	}
	if err := l.probe(func(ip netip.Addr) error { _, err := l.lookupCode(ip); return err }); err != nil {
		return nil, err
	}
	return l, nil
}

func openISP(b []byte) (*loaded, error) {
	l, err := openCommon(b)
	if err != nil {
		return nil, err
	}
	var ime geoip2.InvalidMethodError
	_, err = l.geo.ISP(net.IPv4(127, 0, 0, 1))
	switch {
	case err == nil:
		l.kind = kindISP
	case errors.As(err, &ime):
		if _, err := l.geo.ASN(net.IPv4(127, 0, 0, 1)); errors.As(err, &ime) {
			return nil, fmt.Errorf("database type %q has neither ISP nor ASN data", l.dbType)
		}
		l.kind = kindASN
	default:
		return nil, fmt.Errorf("probe 127.0.0.1: %w", err)
	}
	if err := l.probe(func(ip netip.Addr) error { _, err := l.lookupISP(ip); return err }); err != nil {
		return nil, err
	}
	return l, nil
}

// asNetIP converts without allocating: the array lives on the caller's stack.
func asNetIP(ip netip.Addr, buf *[16]byte) net.IP {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		copy(buf[:4], a[:])
		return buf[:4]
	}
	*buf = ip.As16()
	return buf[:]
}

// countryRecord is the part of a country or city record we read; the decoder skips the rest
// (names in eight languages, continent, subdivisions …).
type countryRecord struct {
	Country struct {
		IsoCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		IsoCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

func (l *loaded) countryCode(ip netip.Addr) string {
	code, err := l.lookupCode(ip)
	if err != nil {
		l.src.lookupErrors.Add(1)
		return ""
	}
	return code
}

func (l *loaded) lookupCode(ip netip.Addr) (string, error) {
	if !ip.IsValid() {
		return "", nil
	}
	var buf [16]byte
	off, err := l.mmdb.LookupOffset(asNetIP(ip, &buf))
	if err != nil || off == maxminddb.NotFound {
		return "", err
	}
	if v, ok := l.codes.Load(off); ok {
		return v.(string), nil
	}
	var rec countryRecord
	if err := l.mmdb.Decode(off, &rec); err != nil {
		return "", err
	}
	code := rec.Country.IsoCode
	if code == "" {
		code = rec.RegisteredCountry.IsoCode
	}
	if l.ncodes.Load() < maxCachedCodes {
		if _, dup := l.codes.LoadOrStore(off, code); !dup {
			l.ncodes.Add(1)
		}
	}
	return code, nil
}

func (l *loaded) ispOf(ip netip.Addr) ISP {
	isp, err := l.lookupISP(ip)
	if err != nil {
		l.src.lookupErrors.Add(1)
		return ISP{}
	}
	return isp
}

func (l *loaded) lookupISP(ip netip.Addr) (ISP, error) {
	if !ip.IsValid() {
		return ISP{}, nil
	}
	var buf [16]byte
	nip := asNetIP(ip, &buf)
	if l.kind == kindISP {
		r, err := l.geo.ISP(nip)
		if err != nil {
			return ISP{}, err
		}
		isp := ISP{Name: r.ISP, ASN: uint32(r.AutonomousSystemNumber), Organization: r.Organization}
		if isp.Name == "" {
			isp.Name = r.AutonomousSystemOrganization
		}
		if isp.Organization == "" {
			isp.Organization = r.AutonomousSystemOrganization
		}
		return isp, nil
	}
	r, err := l.geo.ASN(nip)
	if err != nil {
		return ISP{}, err
	}
	return ISP{Name: r.AutonomousSystemOrganization, ASN: uint32(r.AutonomousSystemNumber),
		Organization: r.AutonomousSystemOrganization}, nil
}
