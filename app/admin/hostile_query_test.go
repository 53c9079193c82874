package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// hostileValues are what a hostile or broken client puts in a parameter; the first six are
// the web pages' sweep's.
var hostileValues = testkit.HostileText

// TestEveryParameter_HostileValues sends every GET operation of the document, each query and
// path parameter in turn, the values a hostile or broken client sends: an address with a zone,
// NUL, invalid UTF-8, a number past int64, a negative one, a date past year 9999, 2,000
// characters (within the server's 4 KB URL), an injection. Every answer must be one the document allows for the operation,
// never a 500 (e.call fails the test otherwise); a value refused is a 400 naming it.
func TestEveryParameter_HostileValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := bearer(e.login(t, e.admin(t, accounts.RoleAdmin)).AccessToken)
	hostile := hostileValues
	pathParam := regexp.MustCompile(`\{[^}]+\}`)
	var paths []string
	for p := range e.spec.doc.Paths.Map() {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	calls := 0
	for _, p := range paths {
		op := e.spec.doc.Paths.Value(p).Get
		if op == nil || p == "/openapi.json" {
			continue
		}
		concrete := pathParam.ReplaceAllString(p, "1")
		for _, ref := range op.Parameters {
			param := ref.Value
			for _, v := range hostile {
				target := concrete
				switch param.In {
				case "query":
					target += "?" + url.Values{param.Name: {v}}.Encode()
				case "path":
					if strings.Contains(v, "/") {
						continue // the document's router would read %2F as two segments
					}
					target = strings.Replace(p, "{"+param.Name+"}", url.PathEscape(v), 1)
					target = pathParam.ReplaceAllString(target, "1")
				default:
					continue
				}
				r := e.call(t, http.MethodGet, target, admin, nil)
				calls++
				if r.status >= 500 {
					t.Errorf("GET %s = %d %s", target, r.status, r.body)
				}
			}
		}
	}
	if calls < 100 {
		t.Fatalf("only %d hostile calls: the document's GET parameters were not found", calls)
	}
	t.Logf("%d hostile calls over %d paths", calls, len(paths))
}
