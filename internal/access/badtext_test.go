package access_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestCheck_BadTextFailsWithoutQuery: credentials that are not text (NUL, invalid UTF-8) or
// longer than any stored one are AUTH_FAILED without reaching PostgreSQL, which would refuse
// them with an error (issue 11: username=%00 answered 503): the check decides them with the
// database gone, while a well-formed unknown name cannot be decided.
func TestCheck_BadTextFailsWithoutQuery(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.st.Pool().Close()
	for _, who := range []access.Password{
		{Username: "\x00", Password: "x"},
		{Username: "ali\x00ce", Password: "x"},
		{Username: "ali\xffce", Password: "x"},
		{Username: "\xed\xa0\x80", Password: "x"},
		{Username: "alice", Password: "pa\x00ss"},
		{Username: "alice", Password: "pa\xc3ss"},
		{Username: strings.Repeat("a", 513), Password: "x"},
		{Username: "alice", Password: strings.Repeat("p", 1025)},
	} {
		r := access.Request{Who: who, ClientIP: ipUnknown, UserAgent: testUA, Surface: "test"}
		if d, err := f.checker.Check(context.Background(), r); err != nil || d.Code != access.AuthFailed {
			t.Errorf("Check(%q) = %v, %v; want AUTH_FAILED without an error", who.Username, d.Code, err)
		}
	}
	r := access.Request{Who: access.Password{Username: "nobody", Password: "x"}, ClientIP: ipUnknown, Surface: "test"}
	if _, err := f.checker.Check(context.Background(), r); err == nil {
		t.Error("a well-formed unknown name was decided with the database closed")
	}
}

// TestCheck_BadTextDenialLogged: the denial of such a name, and a User-Agent that is not
// UTF-8, still reach the client log, made storable.
func TestCheck_BadTextDenialLogged(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.run(t)
	r := access.Request{Who: access.Password{Username: "bad\x00name\xff", Password: "x"}, ClientIP: ipUnknown,
		UserAgent: "Box\xfe/1", Surface: "test"}
	if d := f.check(t, r); d.Code != access.AuthFailed {
		t.Fatalf("Check = %v, want AUTH_FAILED", d.Code)
	}
	testdb.Eventually(t, 10*time.Second, "the denial in the client log", func() bool {
		var n int
		err := f.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM client_log
			WHERE username = 'badname'||chr(65533) AND user_agent = 'Box'||chr(65533)||'/1'`).Scan(&n)
		return err == nil && n == 1
	})
}

// TestCheck_PathAliasDenialWithoutUsername: a refused login read from a path alias (whose
// "username" may be the password of a line named like the alias) reaches the client log
// without the name; the same refusal from the query keeps it.
func TestCheck_PathAliasDenialWithoutUsername(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.run(t)
	for _, who := range []access.Password{
		{Username: "secret-of-epg", Password: "1", PathAlias: true},
		{Username: "query-name", Password: "1"},
	} {
		r := access.Request{Who: who, ClientIP: ipUnknown, UserAgent: "AliasBox/1", Surface: "xmltv"}
		if d := f.check(t, r); d.Code != access.AuthFailed {
			t.Fatalf("Check(%+v) = %v, want AUTH_FAILED", who, d.Code)
		}
	}
	testdb.Eventually(t, 10*time.Second, "both denials in the client log", func() bool {
		var n int
		err := f.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM client_log WHERE user_agent = 'AliasBox/1'`).Scan(&n)
		return err == nil && n == 2
	})
	var names []string
	rows, err := f.st.Pool().Query(context.Background(), `SELECT coalesce(username, '') FROM client_log WHERE user_agent = 'AliasBox/1' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		names = append(names, s)
	}
	if rows.Err() != nil || len(names) != 2 || names[0] != "" || names[1] != "query-name" {
		t.Errorf("client log usernames %q (%v), want the alias's empty and the query's kept", names, rows.Err())
	}
}
