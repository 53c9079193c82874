package admin

import (
	"encoding/json"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/config"
)

// userData is user_data[...] parsed: the columns of the original's users table that xtreamd
// keeps, each nil (or unset) when not given.
type userData struct {
	username, password             *string
	expSet                         bool
	exp                            *time.Time
	maxConns                       *int
	bouquets                       []int64
	bouquetsSet                    bool
	allowedIPs                     []netip.Prefix
	allowedIPsSet                  bool
	allowedUA                      []string
	allowedUASet                   bool
	isTrial, isRestreamer, ispLock *bool
	bypassUA, banned, disabled     *bool
	ownerSet                       bool
	owner                          *int64
	adminNotes, resellerNotes      *string
	countrySet                     bool
	country                        *string
	formats                        []string
	formatsSet                     bool
}

// ignoredColumns are users columns the original accepts that mean nothing here (or are set by
// xtreamd itself): given, they are accepted and left alone.
var ignoredColumns = map[string]bool{
	"id": true, "created_at": true, "created_by": true, "pair_id": true, "is_mag": true, "is_e2": true,
	"force_server_id": true, "as_number": true, "isp_desc": true, "is_stalker": true, "play_token": true, "mac": true,
}

// outputFormats are the original's access_output ids.
var outputFormats = map[int64]string{1: "m3u8", 2: "ts", 3: "rtmp"}

// parseUserData reads ud; ok is false for an unknown column or a value that does not parse
// (the original's SQL would fail: PARAMETER ERROR).
func parseUserData(ud map[string]phpValue) (userData, bool) {
	var d userData
	for k, v := range ud {
		if ignoredColumns[k] {
			continue
		}
		if !d.set(k, v) {
			return userData{}, false
		}
	}
	return d, true
}

// listColumns are the columns that hold a list (a PHP array or a JSON-array string).
var listColumns = map[string]bool{"bouquet": true, "allowed_ips": true, "allowed_ua": true, "output_formats": true}

func (d *userData) set(k string, v phpValue) bool {
	if v.isList && !listColumns[k] {
		return false
	}
	ok := true
	switch k {
	case "username":
		d.username = &v.s
	case "password":
		d.password = &v.s
	case "exp_date":
		d.expSet = true
		d.exp, ok = unixTime(v.s)
	case "max_connections":
		n, err := strconv.Atoi(strings.TrimSpace(v.s))
		d.maxConns, ok = &n, err == nil
	case "bouquet":
		d.bouquetsSet = true
		d.bouquets, ok = intList(v)
	case "allowed_ips":
		d.allowedIPsSet = true
		d.allowedIPs, ok = ipList(v)
	case "allowed_ua":
		d.allowedUASet = true
		d.allowedUA, ok = stringList(v)
	case "output_formats":
		d.formatsSet = true
		d.formats, ok = formatList(v)
	case "member_id":
		d.ownerSet = true
		d.owner, ok = optionalID(v.s)
	case "forced_country":
		d.countrySet = true
		if c := strings.ToUpper(strings.TrimSpace(v.s)); c != "" && c != "ALL" {
			d.country = &c
		}
	case "admin_notes":
		d.adminNotes = &v.s
	case "reseller_notes":
		d.resellerNotes = &v.s
	default:
		return d.setFlag(k, v.s)
	}
	return ok
}

// setFlag reads the 0/1 columns; admin_enabled and enabled are the inverse of banned and
// disabled.
func (d *userData) setFlag(k, s string) bool {
	b, ok := flag(s)
	switch k {
	case "is_trial":
		d.isTrial = &b
	case "is_restreamer":
		d.isRestreamer = &b
	case "is_isplock":
		d.ispLock = &b
	case "bypass_ua":
		d.bypassUA = &b
	case "admin_enabled":
		banned := !b
		d.banned = &banned
	case "enabled":
		disabled := !b
		d.disabled = &disabled
	default:
		return false // not a column of users: the original's INSERT fails
	}
	return ok
}

func flag(s string) (bool, bool) {
	switch strings.TrimSpace(strings.ToLower(s)) {
	case "1", "true":
		return true, true
	case "0", "false", "":
		return false, true
	}
	return false, false
}

// unixTime reads exp_date: Unix seconds; empty or 0 is no expiry (NULL), as in the original.
func unixTime(s string) (*time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || strings.EqualFold(s, "null") {
		return nil, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > 253402300799 {
		return nil, false
	}
	t := time.Unix(n, 0).UTC()
	return &t, true
}

func optionalID(s string) (*int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return nil, false
	}
	if n == 0 {
		return nil, true
	}
	return &n, true
}

// listOf reads a list: a PHP array, or a JSON-array string (the original's user_data[bouquet]=[1,2]);
// an empty string is an empty list.
func listOf(v phpValue) ([]any, bool) {
	if v.isList {
		out := make([]any, len(v.list))
		for i, s := range v.list {
			out[i] = s
		}
		return out, true
	}
	if strings.TrimSpace(v.s) == "" {
		return []any{}, true
	}
	var out []any
	return out, json.Unmarshal([]byte(v.s), &out) == nil
}

func intList(v phpValue) ([]int64, bool) {
	items, ok := listOf(v)
	if !ok {
		return nil, false
	}
	out := []int64{}
	for _, it := range items {
		var n int64
		switch x := it.(type) {
		case float64:
			n = int64(x)
			ok = float64(n) == x
		case string:
			var err error
			n, err = strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			ok = err == nil
		default:
			ok = false
		}
		if !ok || n <= 0 {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

func stringList(v phpValue) ([]string, bool) {
	items, ok := listOf(v)
	if !ok {
		return nil, false
	}
	out := []string{}
	for _, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func ipList(v phpValue) ([]netip.Prefix, bool) {
	list, ok := stringList(v)
	if !ok {
		return nil, false
	}
	out := []netip.Prefix{}
	for _, s := range list {
		p, err := config.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, false // the original also takes host names; xtreamd checks addresses only
		}
		out = append(out, p)
	}
	return out, true
}

func formatList(v phpValue) ([]string, bool) {
	ids, ok := intList(v)
	if !ok || len(ids) == 0 {
		return nil, false
	}
	var out []string
	for _, id := range ids {
		f, known := outputFormats[id]
		if !known {
			return nil, false
		}
		out = append(out, f)
	}
	return out, true
}

// newLine is the line user_data creates (absent columns: the defaults).
func (d userData) newLine() accounts.NewLine {
	nl := accounts.NewLine{Username: deref(d.username), Password: deref(d.password), ExpDate: d.exp,
		MaxConnections: deref(d.maxConns), IsTrial: deref(d.isTrial), IsRestreamer: deref(d.isRestreamer),
		ISPLock: deref(d.ispLock), BypassUABlock: deref(d.bypassUA), Banned: deref(d.banned), Disabled: deref(d.disabled),
		OwnerID: d.owner, AdminNotes: deref(d.adminNotes), ResellerNotes: deref(d.resellerNotes), ForcedCountry: d.country,
		AllowedIPs: d.allowedIPs, AllowedUserAgents: d.allowedUA}
	if d.bouquetsSet {
		nl.BouquetIDs = d.bouquets
	}
	if d.formatsSet {
		nl.AllowedOutputFormats = d.formats
	}
	return nl
}

// patch is the change user_data makes to a line (the password apart).
func (d userData) patch() accounts.LinePatch {
	p := accounts.LinePatch{Username: given(d.username), MaxConnections: given(d.maxConns), IsTrial: given(d.isTrial),
		IsRestreamer: given(d.isRestreamer), ISPLock: given(d.ispLock), BypassUABlock: given(d.bypassUA),
		Banned: given(d.banned), Disabled: given(d.disabled), AdminNotes: given(d.adminNotes),
		ResellerNotes: given(d.resellerNotes)}
	p.ExpDate = accounts.Field[*time.Time]{Given: d.expSet, V: d.exp}
	p.BouquetIDs = accounts.Field[[]int64]{Given: d.bouquetsSet, V: d.bouquets}
	p.AllowedIPs = accounts.Field[[]netip.Prefix]{Given: d.allowedIPsSet, V: d.allowedIPs}
	p.AllowedUserAgents = accounts.Field[[]string]{Given: d.allowedUASet, V: d.allowedUA}
	p.AllowedOutputFormats = accounts.Field[[]string]{Given: d.formatsSet, V: d.formats}
	p.OwnerID = accounts.Field[*int64]{Given: d.ownerSet, V: d.owner}
	p.ForcedCountry = accounts.Field[*string]{Given: d.countrySet, V: d.country}
	return p
}
