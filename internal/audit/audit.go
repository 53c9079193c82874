// Package audit records every admin action: who (an admin, an API key, the command line),
// what (an action name and its target), from where (the client address) and the before/after
// of the fields it changed — never a password, token or key. An entry is written on the
// transaction that makes the change, so it exists exactly when the change does; surfaces
// (api.php, /api/v1, the web page) and cmd reach it only through the domain packages that
// mutate (accounts, catalog administration, security lists …), never directly.
package audit

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"strings"

	"github.com/xtreamd/xtreamd/internal/store"
)

// Actor is who acts.
type Actor struct {
	AdminID int64      // 0: not an admin account (the command line, the system)
	Name    string     // the admin's username, "cli", "system", "api_key:<prefix>" …
	IP      netip.Addr // the client address; zero for the command line
}

// CLI is the actor of xtreamd's subcommands.
var CLI = Actor{Name: "cli"}

// System is the actor of what the server does by itself (scheduled refreshes, sweeps).
var System = Actor{Name: "system"}

// Entry is one action.
type Entry struct {
	Action     string // dotted lower case: "line.create", "line.ban", "bouquet.update" …
	TargetType string // "line", "mag_device", "bouquet" …
	TargetID   string
	// Before and After hold the changed fields only (see Diff); nil for none.
	Before, After map[string]any
	// Extra is any other detail worth keeping (a count, a package id). Never a secret.
	Extra map[string]any
}

var actionRE = regexp.MustCompile(`^[a-z][a-z0-9_.]*$`)

// Record writes e by a on tx (the change's transaction).
func Record(ctx context.Context, tx *store.Store, a Actor, e Entry) error {
	if !actionRE.MatchString(e.Action) {
		return fmt.Errorf("audit: action %q is not dotted lower case", e.Action)
	}
	detail := map[string]any{}
	for k, v := range e.Extra {
		detail[k] = v
	}
	if len(e.Before) > 0 {
		detail["before"] = e.Before
	}
	if len(e.After) > 0 {
		detail["after"] = e.After
	}
	row := store.AuditEntry{Actor: a.Name, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Detail: detail}
	if a.AdminID != 0 {
		id := a.AdminID
		row.AdminID = &id
	}
	if a.IP.IsValid() {
		ip := a.IP.Unmap()
		row.ClientIP = &ip
	}
	if _, err := tx.InsertAudit(ctx, row); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Changed marks a secret field that changed: its values are never recorded.
const Changed = "[changed]"

// Diff compares two values of the same struct type field by field and returns the fields that
// differ, keyed by their json name (else the field name), with their old and new values.
// A field tagged `audit:"-"` is ignored; one tagged `audit:"secret"` appears as Changed on
// both sides when it differs, so a password reset is visible without its hash. Pointers are
// compared by what they point to.
func Diff(before, after any) (b, a map[string]any) {
	vb, va := reflect.Indirect(reflect.ValueOf(before)), reflect.Indirect(reflect.ValueOf(after))
	if vb.Kind() != reflect.Struct || va.Type() != vb.Type() {
		panic(fmt.Sprintf("audit.Diff: want two structs of one type, got %T and %T", before, after))
	}
	b, a = map[string]any{}, map[string]any{}
	t := vb.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("audit")
		if !f.IsExported() || tag == "-" {
			continue
		}
		x, y := vb.Field(i).Interface(), va.Field(i).Interface()
		if reflect.DeepEqual(x, y) {
			continue
		}
		name := fieldName(f)
		if tag == "secret" {
			b[name], a[name] = Changed, Changed
			continue
		}
		b[name], a[name] = deref(vb.Field(i)), deref(va.Field(i))
	}
	return b, a
}

func fieldName(f reflect.StructField) string {
	if j, _, _ := strings.Cut(f.Tag.Get("json"), ","); j != "" && j != "-" {
		return j
	}
	if d := f.Tag.Get("db"); d != "" && d != "-" {
		return d
	}
	return f.Name
}

func deref(v reflect.Value) any {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	return v.Interface()
}
