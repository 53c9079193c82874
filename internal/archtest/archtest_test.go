// Package archtest enforces the import rules of STYLE.md §1: imports run cmd → app → internal,
// only app/* touches Fiber/fasthttp, app surfaces never import each other, and only store and
// testdb speak to PostgreSQL through pgx.
package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/xtreamd/xtreamd"

// leaves import no internal package.
var leaves = map[string]bool{
	"credential": true, "geo": true, "input": true, "token": true, "relay": true, "config": true, "logx": true, "pgserver": true,
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

func violation(pkg, imp string) string {
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
		{"internal/access", "github.com/gofiber/fiber/v2"},
		{"internal/geo", module + "/internal/store"},
		{"internal/catalog", "github.com/jackc/pgx/v5"},
		{"app/player", module + "/app/stream"},
		{"app/player", "github.com/jackc/pgx/v5/pgxpool"},
		{"internal/store", module + "/internal/config"},
		{"app/player", module + "/internal/store"},
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
	}
	for _, g := range good {
		if msg := violation(g[0], g[1]); msg != "" {
			t.Errorf("violation(%q, %q) = %q, want allowed", g[0], g[1], msg)
		}
	}
}
