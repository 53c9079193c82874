package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// AuditEntry is one row of audit_log (001_core): who changed what, from where. Detail never
// holds a password, a token or a key.
type AuditEntry struct {
	ID         int64          `db:"id"`
	At         time.Time      `db:"at"`
	AdminID    *int64         `db:"admin_id"`
	Actor      string         `db:"actor"`
	Action     string         `db:"action"`
	TargetType string         `db:"target_type"`
	TargetID   string         `db:"target_id"`
	ClientIP   *netip.Addr    `db:"client_ip"`
	Detail     map[string]any `db:"detail"`
}

// InsertAudit writes e (its ID and At are set by the database) and returns its id. Call it on
// the transaction that makes the change, so the entry exists exactly when the change does.
func (s *Store) InsertAudit(ctx context.Context, e AuditEntry) (int64, error) {
	const q = `INSERT INTO audit_log (admin_id, actor, action, target_type, target_id, client_ip, detail)
		VALUES ($1, $2, $3, $4, $5, $6::inet, $7) RETURNING id`
	detail := e.Detail
	if detail == nil {
		detail = map[string]any{}
	}
	raw, err := json.Marshal(detail)
	if err != nil {
		return 0, fmt.Errorf("audit %s: detail: %w", e.Action, err)
	}
	var ip any
	if e.ClientIP != nil && e.ClientIP.IsValid() {
		ip = e.ClientIP.String()
	}
	var id int64
	if err := s.q.QueryRow(ctx, q, e.AdminID, truncateUTF8(e.Actor, 128), e.Action, e.TargetType, e.TargetID, ip, raw).Scan(&id); err != nil {
		return 0, fmt.Errorf("audit %s: %w", e.Action, interpret(err))
	}
	return id, nil
}

// AuditFilter selects audit entries; zero fields match everything. Entries come newest first;
// BeforeID pages (entries with a smaller id), Limit caps the page (default 50, at most 1000, plus
// the one row that tells a next page exists: clampLimit).
type AuditFilter struct {
	AdminID    int64
	Action     string // exact, or a prefix ending in "." ("line." for every line action)
	TargetType string
	TargetID   string
	Since      time.Time
	BeforeID   int64
	Limit      int
}

// SearchAudit returns the entries matching f, newest first.
func (s *Store) SearchAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	const q = `SELECT id, at, admin_id, actor, action, target_type, target_id, client_ip, detail
		FROM audit_log
		WHERE ($1 = 0 OR admin_id = $1)
		  AND ($2 = '' OR action = $2 OR (right($2, 1) = '.' AND starts_with(action, $2)))
		  AND ($3 = '' OR target_type = $3)
		  AND ($4 = '' OR target_id = $4)
		  AND ($5::timestamptz IS NULL OR at >= $5)
		  AND ($6 = 0 OR id < $6)
		ORDER BY id DESC
		LIMIT $7`
	limit := clampLimit(f.Limit)
	var since *time.Time
	if !f.Since.IsZero() {
		since = &f.Since
	}
	return many[AuditEntry](ctx, s, "search audit", q, f.AdminID, f.Action, f.TargetType, f.TargetID, since, f.BeforeID, limit)
}
