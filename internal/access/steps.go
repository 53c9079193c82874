package access

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/geo"
	"github.com/xtreamd/xtreamd/internal/input"
)

var (
	// errNotLoaded: Check before Load.
	errNotLoaded = errors.New("security lists not loaded")
	// errNotInBouquet aborts a lease transaction at step 10.
	errNotInBouquet = errors.New("access: stream not in the line's bouquets")
)

// Check runs the ordered check. It returns an error only when it could not decide (database
// down, context done); the surface then answers "unavailable" and never allows the request.
// Errors of every step are wrapped here, once.
func (c *Checker) Check(ctx context.Context, r Request) (Decision, error) {
	start := time.Since(c.epoch) // a monotonic reading only: half of time.Now's cost
	d, err := c.check(ctx, r)
	kind := kindRequest
	if r.StreamOpen {
		kind = kindStreamOpen
	}
	c.latencyBy[kind].ObserveDuration(time.Since(c.epoch) - start)
	if err != nil {
		return Decision{}, fmt.Errorf("access: %w", err)
	}
	c.checksBy[d.Code].Inc()
	if d.Code != OK {
		c.recordDenial(ctx, r, d)
	}
	return d, nil
}

// CheckEach decides a probe of several streams at once (a partner's preauthorization): the
// steps every stream shares — 1 to 8, the format and, with r.ProbeSlots, step 9 read-only —
// run once, exactly as Check runs them for a probe, then step 10 for each of streamIDs. It
// returns the shared decision (its Code is the first failure of the shared steps, OK when they
// passed) and each stream's code: the shared failure, else NOT_IN_BOUQUET or OK. A shared
// failure is logged once, like Check's; a stream outside the bouquets is not a denial to log
// (the partner asked which of them the line may play). An error means it could not decide.
func (c *Checker) CheckEach(ctx context.Context, r Request, streamIDs []int64) (Decision, []Code, error) {
	r.StreamOpen, r.Probe, r.each, r.StreamID = false, true, true, 0
	start := time.Now()
	d, err := c.check(ctx, r)
	c.latencyBy[kindProbeEach].ObserveDuration(time.Since(start))
	if err != nil {
		return Decision{}, nil, fmt.Errorf("access: %w", err)
	}
	c.checksBy[d.Code].Inc()
	codes := make([]Code, len(streamIDs))
	if d.Code != OK {
		c.recordDenial(ctx, r, d)
		for i := range codes {
			codes[i] = d.Code
		}
		return d, codes, nil
	}
	for i, id := range streamIDs {
		codes[i] = c.inBouquet(d.Line, id)
	}
	return d, codes, nil
}

// check runs the steps of DESIGN §2 in table order, with the flood pre-check before step 1 and
// the format check between steps 8 and 9. The first failure wins. Each step is a direct call
// (not a table of funcs) so the cached path stays free of allocations.
func (c *Checker) check(ctx context.Context, r Request) (Decision, error) {
	sec := c.sec.Load()
	if sec == nil {
		return Decision{}, errNotLoaded
	}
	// Read before anything the check reads: a change after this re-checks the opened stream.
	epoch := c.changes.Load()
	now := c.now()
	ip := r.ClientIP.Unmap()
	if sec.flood.contains(ip, now) {
		return Decision{Code: FloodBlocked}, nil
	}
	a, err := c.authenticate(ctx, r, now, ip) // 1
	if err != nil {
		return Decision{}, err
	}
	if a.line == nil {
		if _, partner := r.Who.(PartnerLine); !partner { // a partner named the line, not the viewer
			c.failedLogin(ctx, ip, sec, now)
		}
		return Decision{Code: AuthFailed}, nil
	}
	line := a.line
	d := Decision{Line: line, PlayClaims: a.claims, cred: a.cred}
	if d.Code = lineStatus(line, now); d.Code != OK { // 2, 3, 4
		return d, nil
	}
	if d.Code = ipAllowed(sec, line, ip, now); d.Code != OK { // 5
		return d, nil
	}
	if d.Code, d.Country = c.countryAllowed(sec, line, ip); d.Code != OK { // 6
		return d, nil
	}
	if d.Code = userAgentAllowed(sec, line, r.UserAgent); d.Code != OK { // 7
		return d, nil
	}
	if d.Code, d.ISP, err = c.ispAllowed(ctx, sec, line, ip, r.StreamOpen); err != nil || d.Code != OK { // 8
		return d, err
	}
	if d.Code = formatAllowed(line, r.Format); d.Code != OK {
		return d, nil
	}
	switch {
	case r.StreamOpen: // 9, 10
		return c.openStream(ctx, r, sec, ip, d, epoch)
	case r.Probe && r.ProbeSlots: // 9 read-only, 10
		if d.Code, err = c.slotFree(ctx, line, ip, sec.settings.ConnectionPolicy); err != nil || d.Code != OK {
			return d, err
		}
		fallthrough
	case r.Probe: // 10
		if !r.each {
			d.Code = c.inBouquet(line, r.StreamID)
		}
	}
	return d, nil
}

// slotFree is step 9 USER_ALREADY_CONNECTED without a lease: would the line's live leases
// admit one more stream from ip now, under the connection policy?
func (c *Checker) slotFree(ctx context.Context, line *Line, ip netip.Addr, policy conns.Policy) (Code, error) {
	if line.MaxConnections <= 0 {
		return OK, nil
	}
	live, err := c.d.Store.LiveLeases(ctx, line.ID)
	if err != nil {
		return OK, err
	}
	req := conns.Request{LineID: line.ID, MaxConnections: line.MaxConnections, ClientIP: ip}
	if _, ok := conns.Admit(live, req, policy); !ok {
		return UserAlreadyConnected, nil
	}
	return OK, nil
}

// failedLogin counts a step-1 failure towards the flood limit. Failing to count is logged, not
// fatal: the login has failed either way.
func (c *Checker) failedLogin(ctx context.Context, ip netip.Addr, sec *security, now time.Time) {
	if err := c.countFailure(ctx, ip, sec, now); err != nil {
		c.d.Log.WarnContext(ctx, "counting a failed login", "err", err)
	}
}

// lineStatus is steps 2 USER_EXPIRED, 3 USER_BAN and 4 USER_DISABLED.
func lineStatus(line *Line, now time.Time) Code {
	switch {
	case line.ExpDate != nil && !now.Before(*line.ExpDate):
		return UserExpired
	case line.Banned:
		return UserBan
	case line.Disabled:
		return UserDisabled
	}
	return OK
}

// ipAllowed is step 5 IP_BAN: the global blocked list, then the line's allowed addresses.
func ipAllowed(sec *security, line *Line, ip netip.Addr, now time.Time) Code {
	if sec.blocked.contains(ip, now) || (len(line.AllowedIPs) > 0 && !prefixesContain(line.AllowedIPs, ip)) {
		return IPBan
	}
	return OK
}

// countryAllowed is step 6 COUNTRY_DISALLOW: the line's forced country, else the global
// allow-list. Both fail closed without a country database. It also returns the country.
func (c *Checker) countryAllowed(sec *security, line *Line, ip netip.Addr) (Code, string) {
	country, have := "", false
	if c.d.Geo != nil {
		country, have = c.d.Geo.Country(ip)
	}
	if line.ForcedCountry != nil && *line.ForcedCountry != "" {
		if !have || country != *line.ForcedCountry {
			return CountryDisallow, country
		}
	} else if sec.countries != nil && (!have || !sec.countries[country]) {
		return CountryDisallow, country
	}
	return OK, country
}

// userAgentAllowed is step 7 USER_AGENT_BAN: an empty agent where refused, the global blocked
// patterns (unless the line bypasses them), then the line's allowed agents.
func userAgentAllowed(sec *security, line *Line, ua string) Code {
	if (ua == "" && sec.settings.DisallowEmptyUserAgent) ||
		(!line.BypassUABlock && sec.userAgentBlocked(ua)) ||
		(len(line.AllowedUserAgents) > 0 && !slices.Contains(line.AllowedUserAgents, ua)) {
		return UserAgentBan
	}
	return OK
}

// ispAllowed is step 8 ISP_LOCK_FAILED: the global deny-lists fail open without an ISP
// database; an ISP-locked line fails closed, and its first use records the ISP. It also
// returns the client's ISP name when GeoIP knows it.
func (c *Checker) ispAllowed(ctx context.Context, sec *security, line *Line, ip netip.Addr, streamOpen bool) (Code, string, error) {
	isp, have := c.lookupISP(sec, line, ip, streamOpen)
	code, record := ispDecision(sec, line, isp, have)
	known := ""
	if have {
		known = ispKey(isp)
	}
	if !record {
		return code, known, nil
	}
	recorded, err := c.d.Store.RecordLineISP(ctx, line.ID, known, int64(isp.ASN))
	if err != nil {
		return OK, known, err
	}
	if !strings.EqualFold(recorded, known) {
		return ISPLockFailed, known, nil
	}
	return OK, known, nil
}

// lookupISP asks GeoIP for the client's ISP when a rule needs it (or for the lease's record).
func (c *Checker) lookupISP(sec *security, line *Line, ip netip.Addr, streamOpen bool) (geo.ISP, bool) {
	if c.d.Geo != nil && (line.ISPLock || len(sec.ispNames) > 0 || len(sec.asns) > 0 || streamOpen) {
		return c.d.Geo.ISP(ip)
	}
	return geo.ISP{}, false
}

// ispDecision is step 8 without writing: the code, and whether the line is ISP-locked with no
// ISP recorded yet, so that this (passing) use must record its ISP.
func ispDecision(sec *security, line *Line, isp geo.ISP, have bool) (Code, bool) {
	if have && sec.ispDenied(isp) {
		return ISPLockFailed, false
	}
	if !line.ISPLock {
		return OK, false
	}
	name := ispKey(isp)
	if !have || name == "" {
		return ISPLockFailed, false
	}
	if line.ISPName == nil || *line.ISPName == "" {
		return OK, true
	}
	if !strings.EqualFold(*line.ISPName, name) {
		return ISPLockFailed, false
	}
	return OK, false
}

// ispDenied reports whether the global lists block isp, by ASN, ISP name or organisation.
func (s *security) ispDenied(isp geo.ISP) bool {
	return s.asns[isp.ASN] && isp.ASN != 0 || s.ispNames[strings.ToLower(isp.Name)] && isp.Name != "" ||
		s.ispNames[strings.ToLower(isp.Organization)] && isp.Organization != ""
}

// formatAllowed sits between steps 8 and 9: an output format the line may not use never takes
// a slot.
func formatAllowed(line *Line, format string) Code {
	if format != "" && !slices.Contains(line.AllowedOutputFormats, format) {
		return FormatDisallowed
	}
	return OK
}

// inBouquet is step 10 NOT_IN_BOUQUET in memory (a probe: no lease is involved).
func (c *Checker) inBouquet(line *Line, streamID int64) Code {
	if c.d.Entitled == nil || !c.d.Entitled(line, streamID) {
		return NotInBouquet
	}
	return OK
}

// openStream is steps 9 USER_ALREADY_CONNECTED and 10 NOT_IN_BOUQUET, in one lease
// transaction: the limit is decided first; a stream outside the bouquets then rolls it back,
// taking no slot.
//
// An admitted stream is registered for re-checks (reauth.go): its lease's end unregisters it.
func (c *Checker) openStream(ctx context.Context, r Request, sec *security, ip netip.Addr, d Decision, epoch uint64) (Decision, error) {
	line := d.Line
	admit := func() error {
		if c.inBouquet(line, r.StreamID) != OK {
			return errNotInBouquet
		}
		return nil
	}
	creq := conns.Request{
		LineID: line.ID, MaxConnections: line.MaxConnections, StreamID: r.StreamID, Container: r.Container,
		ClientIP: ip, UserAgent: r.UserAgent, Country: d.Country, ISP: d.ISP, OnEnd: c.unregister,
		// A viewer zapping from a stream served here: the line is full, the policy decides.
		Full: line.MaxConnections > 0 && c.reg.streamsOf(line.ID) >= line.MaxConnections,
	}
	policy := sec.settings.ConnectionPolicy
	var (
		lease *conns.Lease
		err   error
	)
	if r.Container == conns.ContainerHLS {
		lease, _, err = c.d.Conns.TouchHLS(ctx, creq, policy, admit)
	} else {
		lease, err = c.d.Conns.Acquire(ctx, creq, policy, admit)
	}
	switch {
	case errors.Is(err, conns.ErrLimitReached):
		d.Code = UserAlreadyConnected
	case errors.Is(err, errNotInBouquet):
		d.Code = NotInBouquet
	case errors.Is(err, conns.ErrSessionKilled):
		d.Code = SessionEnded
	case err != nil:
		return Decision{}, err
	default:
		d.Lease = lease
		c.admitted(r, d, ip, epoch)
	}
	return d, nil
}

// countFailure counts a failed login of ip's client (an IPv4 address, an IPv6 /64: the unit a
// block covers, so rotating addresses inside a /64 counts towards one block) in the database,
// so every instance counts together, and blocks the client for a while once it reaches the
// limit. No username is ever locked: that would let anyone lock a victim out.
func (c *Checker) countFailure(ctx context.Context, ip netip.Addr, sec *security, now time.Time) error {
	st := sec.settings
	if st.AuthFailLimit <= 0 || !ip.IsValid() || sec.exempt.contains(ip, now) {
		return nil
	}
	network := blockNetworkFor(ip)
	n, created, err := c.d.Store.RecordAuthFailure(ctx, network, st.AuthFailWindow)
	if err != nil {
		return err
	}
	if n >= st.AuthFailLimit {
		if err := c.block(ctx, ip, network, n, sec, now); err != nil {
			return err
		}
	}
	if created {
		return c.trimCountersIfDue(ctx, st)
	}
	return nil
}

// block blocks a client (network) for n failed logins, here at once and, through the database
// and its NOTIFY, on every instance.
func (c *Checker) block(ctx context.Context, ip netip.Addr, network netip.Prefix, n int, sec *security, now time.Time) error {
	st := sec.settings
	until := now.Add(st.AuthBlockFor)
	reason := fmt.Sprintf("%d failed logins within %s", n, st.AuthFailWindow)
	if err := c.d.Store.BlockIP(ctx, network, "flood", reason, &until); err != nil {
		return err
	}
	if err := c.d.Store.ClearAuthFailures(ctx, network); err != nil {
		return err
	}
	// Added to the snapshot current now (a reload may have replaced sec since this check
	// began), under the writers' lock.
	c.secMu.Lock()
	cur := c.sec.Load()
	next := *cur
	next.flood = cur.flood.clone()
	next.flood.add(network, &until)
	c.sec.Store(&next)
	c.secMu.Unlock()
	c.floodBlocks.Inc()
	c.d.Log.WarnContext(ctx, "client blocked for failed logins", "client_ip", ip.String(), "network", network.String(), "failures", n, "until", until)
	return nil
}

// trimCountersIfDue trims the failure counters once this instance has created a tenth of
// their bound since its last trim. The trim runs in the request that crosses the mark, and
// requests that cross it meanwhile wait for it, so the table never holds more than the bound,
// plus a tenth of it and the requests in progress per instance, however many addresses a spray
// uses and without waiting for Run's sweep.
func (c *Checker) trimCountersIfDue(ctx context.Context, st Settings) error {
	mark := int64(max(1, st.AuthFailCounters/10))
	if c.newCounters.Add(1) < mark {
		return nil
	}
	c.trimming.Lock()
	defer c.trimming.Unlock()
	if c.newCounters.Load() < mark {
		return nil // trimmed meanwhile
	}
	return c.trimLocked(ctx, st)
}

// trimCounters trims the failure counters to their bound (Run's sweep).
func (c *Checker) trimCounters(ctx context.Context, st Settings) error {
	c.trimming.Lock()
	defer c.trimming.Unlock()
	return c.trimLocked(ctx, st)
}

// trimTimeout bounds a trim: creating requests wait on it, so it must end whatever the
// caller's context.
const trimTimeout = 5 * time.Second

func (c *Checker) trimLocked(ctx context.Context, st Settings) error {
	ctx, cancel := context.WithTimeout(ctx, trimTimeout)
	defer cancel()
	created := c.newCounters.Load()
	if _, err := c.d.Store.TrimAuthFailures(ctx, st.AuthFailWindow, st.AuthFailCounters); err != nil {
		return err
	}
	c.newCounters.Add(-created) // counters created meanwhile count towards the next trim
	return nil
}

// CountFailure counts a failed authentication of ip that did not go through Check (a MAG
// portal handshake with an unknown MAC, say) towards flood protection, exactly as a failed
// step 1 counts: per client (IPv4 address, IPv6 /64), blocking the client at the limit. An
// error means the failure could not be counted; the caller's answer stays a failure.
func (c *Checker) CountFailure(ctx context.Context, ip netip.Addr) error {
	sec := c.sec.Load()
	if sec == nil {
		return fmt.Errorf("access: count failure: %w", errNotLoaded)
	}
	if err := c.countFailure(ctx, ip.Unmap(), sec, c.now()); err != nil {
		return fmt.Errorf("access: count failure: %w", err)
	}
	return nil
}

// FloodBlocked reports whether ip's client is blocked for failed logins now (what Check
// answers FLOOD_BLOCKED before step 1), for a surface that refuses before it authenticates.
func (c *Checker) FloodBlocked(ip netip.Addr) bool {
	sec := c.sec.Load()
	return sec != nil && sec.flood.contains(ip.Unmap(), c.now())
}

// recordDenial logs a denial and queues it for the client log without waiting for the database.
func (c *Checker) recordDenial(ctx context.Context, r Request, d Decision) {
	// Sanitize: the client log is text, and a refused name may be anything (see authPassword).
	dn := denial{code: d.Code.String(), surface: r.Surface, ip: r.ClientIP.Unmap(), ua: input.Sanitize(r.UserAgent, 512)}
	if d.Line != nil {
		id := d.Line.ID
		dn.lineID, dn.username = &id, d.Line.Username
	} else if p, ok := passwordOf(r.Who); ok && p.Username != "" && !p.PathAlias {
		dn.username = input.Sanitize(p.Username, 128)
	}
	if (r.StreamOpen || r.Probe) && !r.each {
		sid := r.StreamID
		dn.streamID = &sid
	}
	level := slog.LevelWarn
	if d.Code == AuthFailed || d.Code == FloodBlocked {
		level = slog.LevelInfo
	}
	c.d.Log.Log(ctx, level, "access denied", "code", dn.code, "surface", r.Surface, "username", dn.username,
		"client_ip", dn.ip.String(), "stream_id", r.StreamID)
	select {
	case c.denials <- dn:
	default:
		c.dropped.Inc()
	}
}

func prefixesContain(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ispKey is the name an ISP lock records and compares: the ISP name, else the AS organisation,
// else "AS<number>".
func ispKey(i geo.ISP) string {
	switch {
	case i.Name != "":
		return i.Name
	case i.Organization != "":
		return i.Organization
	case i.ASN != 0:
		return "AS" + strconv.FormatUint(uint64(i.ASN), 10)
	}
	return ""
}
