package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The admin side of lines (003_lines; indexes of 007_admin_api): lists with filters and
// keyset paging, a locked read for changes, whole-row updates and deletes.

// LineSort is a line list's order.
type LineSort uint8

// The orders of a line list; each is (key, id), so ties are stable.
const (
	LineByID LineSort = iota
	LineByUsername
	LineByCreated
	LineByExpiry // lines that never expire last
)

// lineSortKeys are each order's key expression and the cast its cursor value takes.
var lineSortKeys = [...]struct{ expr, cast string }{
	LineByID:       {"l.id", ""},
	LineByUsername: {"l.username", "::text"},
	LineByCreated:  {"l.created_at", "::timestamptz"},
	LineByExpiry:   {"coalesce(l.exp_date, 'infinity'::timestamptz)", "::timestamptz"},
}

// SortKey is the cursor value of l under sort: the text the next page compares with.
func (l Line) SortKey(sort LineSort) string {
	switch sort {
	case LineByUsername:
		return l.Username
	case LineByCreated:
		return l.CreatedAt.UTC().Format(time.RFC3339Nano)
	case LineByExpiry:
		if l.ExpDate == nil {
			return "infinity"
		}
		return l.ExpDate.UTC().Format(time.RFC3339Nano)
	}
	return ""
}

// LineFilter selects lines for a list; zero fields match everything.
type LineFilter struct {
	Owners   []int64 // nil: any owner; else the owner must be one of these (a reseller's subtree)
	OwnerID  *int64  // exactly this owner
	Username string  // prefix of the username
	Status   string  // "", "active", "expired", "banned" or "disabled"
	IsTrial  *bool
	IsMAG    *bool
	// ExpiresBefore / ExpiresAfter bound exp_date (lines that never expire match neither).
	ExpiresBefore, ExpiresAfter *time.Time
	BouquetID                   int64 // holds this bouquet
	Sort                        LineSort
	Desc                        bool
	// AfterKey and AfterID continue after the last line of the previous page (AfterID 0: the
	// first page); AfterKey is that line's SortKey.
	AfterKey string
	AfterID  int64
	Limit    int
}

// where collects the conditions of a list query, numbering its parameters.
type where struct {
	conds []string
	args  []any
}

// add appends cond, whose ? stand for args in order.
func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// ListLines returns up to f.Limit lines matching f in its order. Every condition is a fixed
// fragment with parameters; only the fragments present are joined, so each combination gets
// a plan for exactly its conditions.
func (s *Store) ListLines(ctx context.Context, f LineFilter) ([]Line, error) {
	var w where
	lineConditions(&w, f)
	key := lineSortKeys[f.Sort]
	dir, cmp := "ASC", ">"
	if f.Desc {
		dir, cmp = "DESC", "<"
	}
	if f.AfterID != 0 {
		if f.Sort == LineByID {
			w.add("l.id "+cmp+" ?", f.AfterID)
		} else {
			w.add("("+key.expr+", l.id) "+cmp+" (?"+key.cast+", ?)", f.AfterKey, f.AfterID)
		}
	}
	order := " ORDER BY l.id " + dir
	if f.Sort != LineByID {
		order = " ORDER BY " + key.expr + " " + dir + ", l.id " + dir
	}
	w.args = append(w.args, clampLimit(f.Limit))
	// The page is picked first and its rows' bouquets read after: a plan that sorts (an owner
	// filter over many rows) must not build the bouquet list of every row it sorts.
	q := `SELECT ` + lineColumns + ` FROM (SELECT * FROM lines l` + w.sql() + order + ` LIMIT $` +
		strconv.Itoa(len(w.args)) + `) l` + order
	return collect(ctx, s, "list lines", scanLine, q, w.args...)
}

func lineConditions(w *where, f LineFilter) {
	switch {
	case len(f.Owners) == 1: // a reseller without sub-resellers: its (owner, id) index is in order
		w.add("l.owner_admin_id = ?", f.Owners[0])
	case f.Owners != nil:
		w.add("l.owner_admin_id = ANY(?)", f.Owners)
	}
	if f.OwnerID != nil {
		w.add("l.owner_admin_id = ?", *f.OwnerID)
	}
	if f.Username != "" {
		w.add("l.username LIKE ? || '%'", likePrefix(f.Username))
	}
	switch f.Status {
	case "active":
		w.add("NOT l.banned AND NOT l.disabled AND (l.exp_date IS NULL OR l.exp_date > now())")
	case "expired":
		w.add("l.exp_date <= now()")
	case "banned":
		w.add("l.banned")
	case "disabled":
		w.add("l.disabled")
	}
	if f.IsTrial != nil {
		w.add("l.is_trial = ?", *f.IsTrial)
	}
	if f.IsMAG != nil {
		w.add("l.is_mag = ?", *f.IsMAG)
	}
	if f.ExpiresBefore != nil {
		w.add("l.exp_date < ?", *f.ExpiresBefore)
	}
	if f.ExpiresAfter != nil {
		w.add("l.exp_date > ?", *f.ExpiresAfter)
	}
	if f.BouquetID != 0 {
		w.add("EXISTS (SELECT 1 FROM line_bouquets lb WHERE lb.line_id = l.id AND lb.bouquet_id = ?)", f.BouquetID)
	}
}

// LockLineRow returns line id locked against other changes until the transaction ends (call
// it inside InTx): every admin change of a line reads it this way.
func (s *Store) LockLineRow(ctx context.Context, id int64) (Line, error) {
	const q = `SELECT ` + lineColumns + ` FROM lines l WHERE l.id = $1 FOR UPDATE OF l`
	return s.oneLine(ctx, q, id)
}

// LinesByID returns the lines with these ids that exist, in id order.
func (s *Store) LinesByID(ctx context.Context, ids []int64) ([]Line, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	const q = `SELECT ` + lineColumns + ` FROM lines l WHERE l.id = ANY($1) ORDER BY l.id`
	return collect(ctx, s, "lines by id", scanLine, q, ids)
}

// UpdateLine writes every writable field of line id from l (not its password: see
// SetLinePasswordHash) and its bouquets when they changed from before.
func (s *Store) UpdateLine(ctx context.Context, before, l Line) error {
	const q = `UPDATE lines SET username = $2, exp_date = $3, banned = $4, disabled = $5, max_connections = $6,
		is_trial = $7, is_restreamer = $8, is_mag = $9, allowed_ips = $10::text[]::cidr[], allowed_user_agents = $11,
		bypass_ua_block = $12, forced_country = $13, isp_lock = $14,
		isp_name = CASE WHEN $14 THEN isp_name END, isp_asn = CASE WHEN $14 THEN isp_asn END,
		allowed_output_formats = $15, admin_notes = $16, reseller_notes = $17, owner_admin_id = $18
		WHERE id = $1`
	err := s.InTx(ctx, func(tx *Store) error {
		err := tx.execOne(ctx, "update line", q, l.ID, l.Username, l.ExpDate, l.Banned, l.Disabled, l.MaxConnections,
			l.IsTrial, l.IsRestreamer, l.IsMAG, prefixStrings(l.AllowedIPs), nonNilStrings(l.AllowedUserAgents),
			l.BypassUABlock, l.ForcedCountry, l.ISPLock, nonNilStrings(l.AllowedOutputFormats), l.AdminNotes,
			l.ResellerNotes, l.OwnerAdminID)
		if err != nil || slices.Equal(before.BouquetIDs, l.BouquetIDs) {
			return err
		}
		return tx.SetLineBouquets(ctx, l.ID, l.BouquetIDs)
	})
	if err != nil {
		return fmt.Errorf("update line %d: %w", l.ID, interpret(err))
	}
	return nil
}

// DeleteLine deletes line id (its bouquets, device and leases go with it).
func (s *Store) DeleteLine(ctx context.Context, id int64) error {
	return s.execOne(ctx, "delete line", `DELETE FROM lines WHERE id = $1`, id)
}
