// Package archtest enforces the import rules of STYLE.md §1: imports run cmd → app → internal,
// only app/* touches Fiber/fasthttp, app surfaces never import each other, only store and
// testdb speak to PostgreSQL through pgx, the domain packages import only store, the leaves
// and the few domain packages listed for them, and access and accounts have only the importers
// listed for them.
package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/xtreamd/xtreamd"

// leaves import no internal package.
var leaves = map[string]bool{
	"clock": true, "credential": true, "geo": true, "input": true, "source": true, "token": true, "relay": true, "config": true, "logx": true, "pgserver": true, "stripe": true,
}

// domainImports lists the domain packages and, for each, the internal packages it may import
// besides store, the leaves and its own sub-packages.
var domainImports = map[string][]string{
	"conns": {"audit"}, "catalog": {"audit"}, "epg": {"audit"}, "mag": {"audit"},
	"access":   {"conns", "catalog", "mag"},
	"accounts": {"mag", "audit"},
	// audit writes the admin actions of the packages above, on their transactions.
	"audit": nil,
	// panel administers settings and the security lists and reads the overview.
	"panel": {"audit"},
	// importer runs the catalog's and the guide's importers as background jobs.
	"importer": {"catalog", "epg", "audit"},
	// device (second-screen activation) binds MAG boxes and checks an admin's reach through
	// accounts' rules.
	"device": {"accounts", "audit", "mag"},
}

// importers lists the internal packages that only some trees may import: access is the
// surfaces' check (cmd wires it through app/server), accounts is what surfaces, the command
// line and second-screen activation (which binds MAG boxes by its rules) call (the demo
// loader's accounts are cmd's to create).
var importers = map[string][]string{
	"access":   {"app/"},
	"accounts": {"app/", "cmd/", "internal/device"},
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		checked++
		for _, imp := range imports {
			if msg := violation(rel, imp); msg != "" {
				t.Errorf("%s imports %s: %s", rel, imp, msg)
			}
		}
	}
	if checked < 8 {
		t.Fatalf("only %d packages listed; is the module root right?", checked)
	}
}

// internalName is the first path element under internal/ of an import path or a package
// relative to the module ("" when it is not under internal/).
func internalName(path string) string {
	rest, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		rest = path
	}
	rest, ok = strings.CutPrefix(rest, "internal/")
	if !ok {
		return ""
	}
	return strings.SplitN(rest, "/", 2)[0]
}

// importerViolation applies the importers rules.
func importerViolation(pkg, imp string) string {
	target := internalName(imp)
	allowed, ruled := importers[target]
	if !ruled || internalName(pkg) == target {
		return ""
	}
	for _, prefix := range allowed {
		if strings.HasPrefix(pkg, prefix) {
			return ""
		}
	}
	return "only " + strings.Join(allowed, " and ") + " import internal/" + target
}

// domainViolation applies the domainImports rules to an import of an internal package.
func domainViolation(name, imp string) string {
	allowed, ruled := domainImports[name]
	other := internalName(imp)
	if !ruled || other == "" || other == name || other == "store" || leaves[other] || slices.Contains(allowed, other) {
		return ""
	}
	return name + " imports only store, the leaves" + strings.Join(append([]string{""}, allowed...), ", ")
}

func violation(pkg, imp string) string {
	if msg := importerViolation(pkg, imp); msg != "" {
		return msg
	}
	internalImp := strings.HasPrefix(imp, module+"/internal/")
	appImp := strings.HasPrefix(imp, module+"/app/")
	fiber := strings.HasPrefix(imp, "github.com/gofiber/") || strings.HasPrefix(imp, "github.com/valyala/")
	pgx := strings.HasPrefix(imp, "github.com/jackc/pgx/")
	switch {
	case strings.HasPrefix(pkg, "internal/"):
		name := strings.SplitN(strings.TrimPrefix(pkg, "internal/"), "/", 2)[0]
		if fiber {
			return "internal packages never use Fiber/fasthttp"
		}
		if appImp {
			return "internal packages never import app/"
		}
		if strings.HasPrefix(imp, module+"/cmd/") {
			return "nothing imports cmd/"
		}
		if leaves[name] && internalImp && !strings.HasPrefix(imp, module+"/internal/"+name) {
			return "leaf packages import no other internal package"
		}
		if pgx && name != "store" && name != "testdb" && name != "archtest" {
			return "only store (and testdb) use pgx"
		}
		if name == "store" && internalImp {
			return "store imports only pgx, tern and migrations"
		}
		if msg := domainViolation(name, imp); msg != "" {
			return msg
		}
	case strings.HasPrefix(pkg, "app/"):
		name := strings.SplitN(strings.TrimPrefix(pkg, "app/"), "/", 2)[0]
		if pgx {
			return "app reaches the database only through internal/store"
		}
		if appImp {
			other := strings.SplitN(strings.TrimPrefix(imp, module+"/app/"), "/", 2)[0]
			if other != name && other != "edge" && name != "server" {
				return "app surfaces never import each other; they meet in app/server"
			}
		}
		if imp == module+"/internal/store" && name != "admin" && name != "server" {
			return "surfaces reach data through the domain; only app/admin (and server wiring) use store"
		}
	case strings.HasPrefix(pkg, "cmd/"):
		if pgx {
			return "cmd reaches the database only through internal/store"
		}
	case pkg == "migrations" || pkg == "web":
		if internalImp || appImp {
			return "migrations and web are leaves"
		}
	}
	return ""
}

// TestViolationRules keeps the rule function itself honest.
func TestViolationRules(t *testing.T) {
	t.Parallel()
	bad := [][2]string{
		{"internal/audit", module + "/internal/accounts"},
		{"internal/access", "github.com/gofiber/fiber/v2"},
		{"internal/geo", module + "/internal/store"},
		{"internal/catalog", "github.com/jackc/pgx/v5"},
		{"app/player", module + "/app/stream"},
		{"app/player", "github.com/jackc/pgx/v5/pgxpool"},
		{"internal/store", module + "/internal/config"},
		{"app/player", module + "/internal/store"},
		// only app imports access (cmd wires it through app/server)
		{"cmd/xtreamd", module + "/internal/access"},
		{"internal/demo", module + "/internal/access"},
		{"internal/accounts", module + "/internal/access"},
		// conns, catalog, epg and mag import only store and leaves
		{"internal/conns", module + "/internal/catalog"},
		{"internal/catalog", module + "/internal/epg"},
		{"internal/catalog", module + "/internal/conns"},
		{"internal/epg", module + "/internal/mag"},
		{"internal/mag", module + "/internal/conns"},
		{"internal/conns", module + "/internal/accounts"},
		// access: conns, catalog, mag, store and leaves
		{"internal/access", module + "/internal/epg"},
		// panel and importer: the domain packages their rules name
		{"internal/panel", module + "/internal/access"},
		{"internal/panel", module + "/internal/catalog"},
		{"internal/importer", module + "/internal/conns"},
		{"internal/importer", module + "/internal/accounts"},
		{"internal/catalog/editor", module + "/internal/epg"},
		// accounts: store, leaves and mag; only app and cmd import it
		{"internal/accounts", module + "/internal/catalog"},
		{"internal/accounts", module + "/internal/conns"},
		{"internal/demo", module + "/internal/accounts"},
		// device: accounts, audit, mag, store and leaves; never the check itself
		{"internal/device", module + "/internal/access"},
		{"internal/device", module + "/internal/conns"},
		{"internal/access", module + "/internal/accounts"},
		{"internal/testdb", module + "/internal/accounts"},
		{"migrations", module + "/internal/accounts"},
	}
	for _, b := range bad {
		if violation(b[0], b[1]) == "" {
			t.Errorf("violation(%q, %q) = allowed, want a violation", b[0], b[1])
		}
	}
	good := [][2]string{
		{"app/server", module + "/app/player"},
		{"app/player", module + "/app/edge"},
		{"internal/access", module + "/internal/store"},
		{"internal/store", "github.com/jackc/pgx/v5"},
		{"internal/testdb", "github.com/jackc/pgx/v5/pgxpool"},
		{"app/admin", module + "/internal/store"},
		{"internal/device", module + "/internal/accounts"},
		{"app/server", module + "/internal/access"},
		{"app/stream", module + "/internal/access"},
		{"internal/access", module + "/internal/access"},
		{"internal/catalog", module + "/internal/catalog/m3u"},
		{"internal/catalog", module + "/internal/input"},
		{"internal/catalog", module + "/internal/store"},
		{"internal/conns", module + "/internal/store"},
		{"internal/epg", module + "/internal/store"},
		{"internal/mag", module + "/internal/input"},
		{"internal/access", module + "/internal/mag"},
		{"internal/access", module + "/internal/conns"},
		{"internal/access", module + "/internal/catalog"},
		{"internal/access", module + "/internal/geo"},
		{"internal/accounts", module + "/internal/store"},
		{"internal/accounts", module + "/internal/credential"},
		{"internal/accounts", module + "/internal/mag"},
		{"internal/accounts", module + "/internal/config"},
		{"internal/accounts", module + "/internal/input"},
		{"cmd/xtreamd", module + "/internal/accounts"},
		{"cmd/xtreamd", module + "/app/server"},
		{"app/admin", module + "/internal/accounts"},
		{"internal/demo", module + "/internal/store"},
		{"internal/accounts", module + "/internal/audit"},
		{"internal/catalog", module + "/internal/audit"},
	}
	for _, g := range good {
		if msg := violation(g[0], g[1]); msg != "" {
			t.Errorf("violation(%q, %q) = %q, want allowed", g[0], g[1], msg)
		}
	}
}
