package access

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Settings are the panel settings the check and the surfaces read. Each has a default; a row
// in the settings table overrides it.
type Settings struct {
	// ConnectionPolicy: refuse, replace_same_ip (default) or kick_oldest ("connection_policy").
	ConnectionPolicy conns.Policy
	// DisallowEmptyUserAgent refuses requests without a User-Agent ("disallow_empty_user_agents").
	DisallowEmptyUserAgent bool
	// AuthFailLimit failed logins from one client (an IPv4 address, an IPv6 /64) within
	// AuthFailWindow block it for AuthBlockFor ("flood_auth_failures", "flood_window_seconds",
	// "flood_block_seconds"). 0 disables.
	AuthFailLimit  int
	AuthFailWindow time.Duration
	AuthBlockFor   time.Duration
	// AuthFailCounters bounds the failed-login counters kept (rows of auth_failures, shared by
	// every instance, "flood_max_counters"): beyond it the least advanced go first.
	AuthFailCounters int
	// FloodExempt addresses are never blocked for floods nor rate-limited ("flood_exempt_ips").
	FloodExempt []netip.Prefix
	// RatePerSecond and RateBurst bound each client's requests on the player surfaces
	// ("rate_limit_per_second", "rate_limit_burst"). 0 disables.
	RatePerSecond float64
	RateBurst     int
	// StreamRatePerSecond and StreamRateBurst bound each client's stream opens
	// ("stream_rate_limit_per_second", "stream_rate_limit_burst"). 0 disables. The default
	// lets a household zap channels, poll HLS playlists and seek in movies on a few devices.
	StreamRatePerSecond float64
	StreamRateBurst     int
	// Message is the message of the day in user_info.message ("message").
	Message string
	// PartnerRegistration opens dynamic client registration to holders of an initial access
	// token ("partner_registration").
	PartnerRegistration bool
	// PartnerTokenTTL is the lifetime of partner access tokens ("partner_token_seconds").
	PartnerTokenTTL time.Duration
	// PartnerPermitTTL is how long a partner decision's permit is cached; 0 caches none
	// ("partner_permit_seconds").
	PartnerPermitTTL time.Duration
	// PartnerDenialsPerSecond and PartnerDenialsBurst bound the denials one partner's decisions
	// draw before its calls answer 429 ("partner_denials_per_second", "partner_denials_burst").
	PartnerDenialsPerSecond float64
	PartnerDenialsBurst     int
}

// DefaultSettings are used where the settings table has no row.
func DefaultSettings() Settings {
	return Settings{
		ConnectionPolicy: conns.PolicyReplaceSameIP,
		AuthFailLimit:    10,
		AuthFailWindow:   time.Minute,
		AuthBlockFor:     10 * time.Minute,
		AuthFailCounters: 100_000,
		RatePerSecond:    20,
		RateBurst:        40,

		StreamRatePerSecond: 10,
		StreamRateBurst:     50,

		PartnerTokenTTL:         15 * time.Minute,
		PartnerPermitTTL:        30 * time.Second,
		PartnerDenialsPerSecond: 2,
		PartnerDenialsBurst:     60,
	}
}

// parseSettings applies stored values over the defaults. A value of the wrong type is reported
// and the default kept, so one bad row cannot stop the check.
func parseSettings(raw map[string]json.RawMessage) (Settings, []error) {
	s := DefaultSettings()
	var errs []error
	get := func(key string, into any) {
		v, ok := raw[key]
		if !ok {
			return
		}
		if err := json.Unmarshal(v, into); err != nil {
			errs = append(errs, fmt.Errorf("setting %s: %w", key, err))
		}
	}
	var policy string
	get("connection_policy", &policy)
	if policy != "" {
		p, err := conns.ParsePolicy(policy)
		if err != nil {
			errs = append(errs, fmt.Errorf("setting connection_policy: %w", err))
		} else {
			s.ConnectionPolicy = p
		}
	}
	get("disallow_empty_user_agents", &s.DisallowEmptyUserAgent)
	get("flood_auth_failures", &s.AuthFailLimit)
	var windowSec, blockSec float64
	if get("flood_window_seconds", &windowSec); windowSec > 0 {
		s.AuthFailWindow = time.Duration(windowSec * float64(time.Second))
	}
	if get("flood_block_seconds", &blockSec); blockSec > 0 {
		s.AuthBlockFor = time.Duration(blockSec * float64(time.Second))
	}
	var exempt []string
	get("flood_exempt_ips", &exempt)
	for _, e := range exempt {
		p, err := ParseNetwork(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("setting flood_exempt_ips: %w", err))
			continue
		}
		s.FloodExempt = append(s.FloodExempt, p)
	}
	if get("flood_max_counters", &s.AuthFailCounters); s.AuthFailCounters < 1 {
		s.AuthFailCounters = 1
	}
	get("rate_limit_per_second", &s.RatePerSecond)
	get("rate_limit_burst", &s.RateBurst)
	get("stream_rate_limit_per_second", &s.StreamRatePerSecond)
	get("stream_rate_limit_burst", &s.StreamRateBurst)
	get("message", &s.Message)
	parsePartnerSettings(&s, get)
	return s, errs
}

// parsePartnerSettings applies the partner settings (bounds as panel.Settings has them: the
// admin API refuses others, a hand-written row outside them keeps the default).
func parsePartnerSettings(s *Settings, get func(key string, into any)) {
	get("partner_registration", &s.PartnerRegistration)
	var tokenSec, permitSec int
	if get("partner_token_seconds", &tokenSec); tokenSec >= 60 && tokenSec <= 3600 {
		s.PartnerTokenTTL = time.Duration(tokenSec) * time.Second
	}
	permitSec = -1
	if get("partner_permit_seconds", &permitSec); permitSec >= 0 && permitSec <= 300 {
		s.PartnerPermitTTL = time.Duration(permitSec) * time.Second
	}
	get("partner_denials_per_second", &s.PartnerDenialsPerSecond)
	if get("partner_denials_burst", &s.PartnerDenialsBurst); s.PartnerDenialsBurst < 1 {
		s.PartnerDenialsBurst = 1
	}
}

// security is one immutable snapshot of the global rules.
type security struct {
	version, settingsVersion int64
	settings                 Settings
	blocked                  *netSet // by admins: step 5
	flood                    *netSet // by flood protection: refused before step 1
	exempt                   *netSet
	uaExact                  map[string]bool // lower-cased whole user agents
	uaSubstrings             []string        // lower-cased
	ispNames                 map[string]bool // lower-cased
	asns                     map[uint32]bool
	countries                map[string]bool // nil: every country ("ALL" or an empty list)
	loadedAt                 time.Time
}

func buildSecurity(l store.SecurityLists, now time.Time) (*security, []error) {
	settings, errs := parseSettings(l.Settings)
	s := &security{
		version: l.Version, settingsVersion: l.SettingsVersion, settings: settings,
		blocked: newNetSet(), flood: newNetSet(), exempt: newNetSet(), uaExact: map[string]bool{},
		ispNames: map[string]bool{}, asns: map[uint32]bool{}, loadedAt: now,
	}
	for _, b := range l.BlockedIPs {
		if b.Source == "flood" {
			s.flood.add(b.Network, b.ExpiresAt)
		} else {
			s.blocked.add(b.Network, b.ExpiresAt)
		}
	}
	for _, p := range settings.FloodExempt {
		s.exempt.add(p, nil)
	}
	for _, u := range l.BlockedUAs {
		p := strings.ToLower(u.Pattern)
		if u.Match == "exact" {
			s.uaExact[p] = true
		} else {
			s.uaSubstrings = append(s.uaSubstrings, p)
		}
	}
	for _, i := range l.BlockedISPs {
		if i.ISPName != nil {
			s.ispNames[strings.ToLower(*i.ISPName)] = true
		}
		if i.ASN != nil {
			s.asns[uint32(*i.ASN)] = true
		}
	}
	for _, c := range l.AllowedCountries {
		if c == "ALL" {
			s.countries = nil
			break
		}
		if s.countries == nil {
			s.countries = map[string]bool{}
		}
		s.countries[c] = true
	}
	return s, errs
}

// userAgentBlocked applies the global blocked user-agent rules (case-insensitive).
func (s *security) userAgentBlocked(ua string) bool {
	if len(s.uaExact) == 0 && len(s.uaSubstrings) == 0 {
		return false
	}
	lower := strings.ToLower(ua)
	if s.uaExact[lower] {
		return true
	}
	for _, p := range s.uaSubstrings {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}

// netSet answers "is this address in one of these networks" with one map probe per distinct
// prefix length, however many entries there are.
type netSet struct {
	byLen map[int]map[netip.Prefix]*time.Time // expiry; nil: none
	lens  []int
}

func newNetSet() *netSet { return &netSet{byLen: map[int]map[netip.Prefix]*time.Time{}} }

func (n *netSet) add(p netip.Prefix, expires *time.Time) {
	p = canonicalPrefix(p)
	m := n.byLen[p.Bits()]
	if m == nil {
		m = map[netip.Prefix]*time.Time{}
		n.byLen[p.Bits()] = m
		n.lens = append(n.lens, p.Bits())
	}
	m[p] = expires
}

// contains reports whether a (unmapped) is in an unexpired entry.
func (n *netSet) contains(a netip.Addr, now time.Time) bool {
	a = a.Unmap()
	for _, bits := range n.lens {
		if bits > a.BitLen() {
			continue
		}
		p, err := a.Prefix(bits)
		if err != nil {
			continue
		}
		if exp, ok := n.byLen[bits][p]; ok && (exp == nil || now.Before(*exp)) {
			return true
		}
	}
	return false
}

func (n *netSet) clone() *netSet {
	c := &netSet{byLen: make(map[int]map[netip.Prefix]*time.Time, len(n.byLen)), lens: append([]int(nil), n.lens...)}
	for bits, m := range n.byLen {
		cm := make(map[netip.Prefix]*time.Time, len(m))
		for p, e := range m {
			cm[p] = e
		}
		c.byLen[bits] = cm
	}
	return c
}

func canonicalPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// ParseNetwork parses an IP or CIDR (for allowed/blocked lists) into a canonical prefix: a bare
// IP becomes a /32 or /128, IPv4-mapped IPv6 is unmapped, host bits are cleared.
func ParseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP or CIDR", s)
		}
		return canonicalPrefix(p), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP or CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ParseNetworkList parses a list of IPs/CIDRs separated by commas, whitespace or newlines
// (as admins paste them), reporting the first bad entry.
func ParseNetworkList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		p, err := ParseNetwork(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParseUserAgentRule validates a blocked user-agent rule: a non-empty pattern of printable
// characters, at most 512 bytes, matched "exact" or as a "substring".
func ParseUserAgentRule(pattern, match string) (string, string, error) {
	if match != "exact" && match != "substring" {
		return "", "", fmt.Errorf("user agent rule match %q: want exact or substring", match)
	}
	if pattern == "" || len(pattern) > 512 {
		return "", "", fmt.Errorf("user agent rule: pattern must be 1 to 512 bytes")
	}
	for _, r := range pattern {
		if r < 0x20 || r == 0x7f {
			return "", "", fmt.Errorf("user agent rule: control character in pattern")
		}
	}
	return pattern, match, nil
}

// blockNetworkFor is the unit of flood protection: what a block covers, what failed logins
// and rate limits are counted per. The address itself for IPv4, its /64 for IPv6 (an IPv6
// host picks any address of its /64: attackers rotate inside it, privacy addresses too).
func blockNetworkFor(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}
