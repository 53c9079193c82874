// Package panel administers what is panel-wide rather than per line or per stream: the typed
// settings, the global security lists (blocked IPs and networks, user agents, ISPs and
// autonomous systems, the allowed countries), and the overview an admin starts from
// (dashboard counts, activity and audit search).
//
// Each change is checked (a refusal is an *input.FieldError), written in one transaction with
// its audit entry, and announced to every instance by the settings and security triggers of
// the schema: the check (internal/access) reloads its rules on the NOTIFY.
package panel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Kind is the type of a setting's value.
type Kind uint8

// The kinds of setting.
const (
	Bool     Kind = iota + 1
	Int           // an integer within [Min, Max]
	Number        // a number within [Min, Max]
	Text          // a string of at most MaxLen characters
	Enum          // one of Enum
	Networks      // a list of IPs and CIDRs, stored canonical ("10.0.0.0/8", "192.0.2.1/32")
)

// String names the kind as the admin API's document does.
func (k Kind) String() string {
	return [...]string{"", "boolean", "integer", "number", "string", "enum", "networks", "paths"}[k]
}

// Setting is one panel setting: its key in the settings table, its type and bounds, its
// default (what the check uses while the table has no row for it), and what it does.
type Setting struct {
	Key     string
	Kind    Kind
	Default any
	Min     float64 // Int, Number
	Max     float64 // Int, Number
	MaxLen  int     // Text
	Enum    []string
	Doc     string
}

// Settings is the table of every typed setting: adding a setting the server reads is one line
// here (its reader in internal/access, app/player … applies the same default). The keys are
// the settings table's (001_core), read by access.Settings.
var Settings = []Setting{
	{Key: "connection_policy", Kind: Enum, Default: "replace_same_ip", Enum: []string{"refuse", "replace_same_ip", "kick_oldest"},
		Doc: "what a stream open does at the line's connection limit: refuse it, replace the oldest stream of the same IP (zapping), or end the oldest stream"},
	{Key: "disallow_empty_user_agents", Kind: Bool, Default: false, Doc: "refuse requests without a User-Agent"},
	{Key: "flood_auth_failures", Kind: Int, Default: 10, Min: 0, Max: 1_000_000,
		Doc: "failed logins from one address (an IPv6 /64) within flood_window_seconds that block it; 0 disables"},
	{Key: "flood_window_seconds", Kind: Number, Default: 60, Min: 1, Max: 86_400, Doc: "the window of flood_auth_failures"},
	{Key: "flood_block_seconds", Kind: Number, Default: 600, Min: 1, Max: 30 * 86_400, Doc: "how long a flood block lasts"},
	{Key: "flood_exempt_ips", Kind: Networks, Default: []string{}, Doc: "addresses and networks never blocked for floods"},
	{Key: "rate_limit_per_second", Kind: Number, Default: 20, Min: 0, Max: 1_000_000,
		Doc: "requests per second one address may make on the player surfaces; 0 disables"},
	{Key: "rate_limit_burst", Kind: Int, Default: 40, Min: 0, Max: 1_000_000, Doc: "the burst rate_limit_per_second allows"},
	{Key: "message", Kind: Text, Default: "", MaxLen: 4096, Doc: "the message of the day (user_info.message)"},
	{Key: "flood_max_counters", Kind: Int, Default: 100_000, Min: 1, Max: 100_000_000,
		Doc: "failed-login counters kept (rows of auth_failures, shared by every instance); beyond it the least advanced go first"},
	{Key: "stream_rate_limit_per_second", Kind: Number, Default: 10, Min: 0, Max: 1_000_000,
		Doc: "stream opens per second one client (an IPv4 address or IPv6 /64) may make; 0 disables"},
	{Key: "stream_rate_limit_burst", Kind: Int, Default: 50, Min: 0, Max: 1_000_000, Doc: "the burst stream_rate_limit_per_second allows"},
	{Key: "partner_registration", Kind: Bool, Default: false,
		Doc: "dynamic client registration (POST /o/client/register, RFC 7591) is open to holders of an initial access token"},
	{Key: "partner_token_seconds", Kind: Int, Default: 900, Min: 60, Max: 3600,
		Doc: "lifetime of the access tokens POST /o/client/token hands partner clients"},
	{Key: "partner_permit_seconds", Kind: Int, Default: 30, Min: 0, Max: 300,
		Doc: "how long a partner decision's permit is kept for the same line, resource and viewer address (dropped at once when the line changes); 0 keeps none"},
	{Key: "partner_denials_per_second", Kind: Number, Default: 2, Min: 0, Max: 1_000_000,
		Doc: "denials one partner client's decisions may draw per second before its decision calls answer 429; 0 disables"},
	{Key: "partner_denials_burst", Kind: Int, Default: 60, Min: 1, Max: 1_000_000, Doc: "the burst partner_denials_per_second allows"},
	// The media directories are deliberately not a setting: they are the --media-dir start-up
	// option, so an admin account (or a stolen admin session) cannot widen what the server reads.
}

// Lookup returns the setting of key.
func Lookup(key string) (Setting, bool) {
	i := slices.IndexFunc(Settings, func(s Setting) bool { return s.Key == key })
	if i < 0 {
		return Setting{}, false
	}
	return Settings[i], true
}

// Value is a setting's current value: stored, or its default when the table has no row.
type Value struct {
	Setting
	Value  any
	Stored bool // false: the default applies
}

// Config administers the typed settings.
type Config struct {
	store *store.Store
}

// NewConfig returns the settings administration over st.
func NewConfig(st *store.Store) *Config { return &Config{store: st} }

// Values returns every setting of the table with its current value, in table order. A stored
// value the table would refuse (written by hand) is reported as stored but answered with the
// default, as the check uses it.
func (c *Config) Values(ctx context.Context) ([]Value, error) {
	raw, err := c.store.Settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return values(raw), nil
}

func values(raw map[string]json.RawMessage) []Value {
	out := make([]Value, len(Settings))
	for i, s := range Settings {
		out[i] = Value{Setting: s, Value: s.Default}
		if v, ok := raw[s.Key]; ok {
			out[i].Stored = true
			if parsed, err := s.Parse(v); err == nil {
				out[i].Value = parsed
			}
		}
	}
	return out
}

// Update applies changes (key → JSON value; null resets a setting to its default) in one
// transaction with one audit entry, and returns every setting afterwards. An unknown key or a
// value of the wrong type or out of bounds is refused on its key, and nothing is written.
func (c *Config) Update(ctx context.Context, a audit.Actor, changes map[string]json.RawMessage) ([]Value, error) {
	parsed := make(map[string]any, len(changes))
	keys := make([]string, 0, len(changes))
	for k, v := range changes {
		s, ok := Lookup(k)
		if !ok {
			return nil, fmt.Errorf("update settings: %w", input.Invalid(k, "not a setting"))
		}
		if string(v) == "null" {
			parsed[k] = nil
		} else {
			p, err := s.Parse(v)
			if err != nil {
				return nil, fmt.Errorf("update settings: %w", err)
			}
			parsed[k] = p
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []Value
	err := c.store.InTx(ctx, func(tx *store.Store) error {
		raw, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		before, after := map[string]any{}, map[string]any{}
		for _, k := range keys {
			set, _ := Lookup(k)
			_, stored := raw[k]
			old, next := valueOf(raw, set), parsed[k]
			if (next == nil && !stored) || (next != nil && stored && sameValue(old, next)) {
				continue // already so: nothing to write, no version to bump
			}
			before[k], after[k] = old, next
			if err := write(ctx, tx, k, next); err != nil {
				return err
			}
		}
		if len(before) > 0 {
			if err := audit.Record(ctx, tx, a, audit.Entry{Action: "settings.update", TargetType: "settings",
				Before: before, After: after}); err != nil {
				return err
			}
		}
		if raw, err = tx.Settings(ctx); err != nil {
			return err
		}
		out = values(raw)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update settings: %w", err)
	}
	return out, nil
}

// valueOf is the stored value of s (nil when none or unreadable).
func valueOf(raw map[string]json.RawMessage, s Setting) any {
	v, ok := raw[s.Key]
	if !ok {
		return nil
	}
	p, err := s.Parse(v)
	if err != nil {
		return nil
	}
	return p
}

// sameValue compares two canonical values by their JSON.
func sameValue(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// write stores v as key's value, or removes the row when v is nil (the default applies).
func write(ctx context.Context, tx *store.Store, key string, v any) error {
	if v == nil {
		return tx.DeleteSetting(ctx, key)
	}
	return tx.SetSetting(ctx, key, v)
}

// Parse checks a JSON value for s and returns it in its canonical form (a float64 for
// numbers, an int64 for integers, canonical networks, clean paths). A refusal names s.Key.
func (s Setting) Parse(raw json.RawMessage) (any, error) {
	bad := func(why string) error { return input.Invalid(s.Key, why) }
	if string(bytes.TrimSpace(raw)) == "null" { // json.Unmarshal would leave the zero value
		return nil, bad("a value, not null")
	}
	switch s.Kind {
	case Bool:
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return nil, bad("true or false")
		}
		return b, nil
	case Int, Number:
		var f float64
		if json.Unmarshal(raw, &f) != nil || math.IsNaN(f) || f < s.Min || f > s.Max || (s.Kind == Int && f != math.Trunc(f)) {
			return nil, bad(fmt.Sprintf("a %s from %g to %g", s.Kind, s.Min, s.Max))
		}
		if s.Kind == Int {
			return int64(f), nil
		}
		return f, nil
	case Text:
		var t string
		if json.Unmarshal(raw, &t) != nil || !input.Text(t, 4*s.MaxLen) || len([]rune(t)) > s.MaxLen {
			return nil, bad(fmt.Sprintf("text of at most %d characters", s.MaxLen))
		}
		return t, nil
	case Enum:
		var t string
		if json.Unmarshal(raw, &t) != nil || !slices.Contains(s.Enum, t) {
			return nil, bad("one of " + strings.Join(s.Enum, ", "))
		}
		return t, nil
	case Networks:
		return parseList(raw, bad, func(e string) (string, bool) {
			p, err := ParseNetwork(e)
			return p.String(), err == nil
		}, "a list of IPs and CIDRs")
	}
	return nil, bad("unknown kind")
}

// parseList reads a JSON list of strings, each made canonical by one (false: refused).
func parseList(raw json.RawMessage, bad func(string) error, one func(string) (string, bool), what string) (any, error) {
	var list []string
	if json.Unmarshal(raw, &list) != nil || len(list) > 1000 {
		return nil, bad(what + " (at most 1000)")
	}
	out := make([]string, 0, len(list))
	for i, e := range list {
		c, ok := one(strings.TrimSpace(e))
		if !ok {
			return nil, bad(fmt.Sprintf("%s: entry %d (%q) is not valid", what, i, input.Truncate(e, 64)))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// ParseNetwork reads an IP or CIDR as the security lists store it: a bare IP is a /32 or
// /128, an IPv4-mapped IPv6 address is unmapped, host bits are cleared.
func ParseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP or CIDR", input.Truncate(s, 64))
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || p.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP or CIDR", input.Truncate(s, 64))
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
