package portal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// TestEPGInfo_Shared: itv/get_epg_info is built once per bouquet set, zone, period, minute and
// EPG version and kept: a programme edited with the tables' triggers off (no new EPG version)
// stays invisible to the boxes of that bouquet set, while another period, built afresh, shows
// it; an ordinary write is seen at once. The kept answer goes gzip-encoded to a box that asks
// for it, and decompressed, byte for byte the same, to one that does not.
func TestEPGInfo_Shared(t *testing.T) {
	t.Parallel()
	at := time.Now().Truncate(time.Minute).Add(30 * time.Second) // one minute all test long
	e := setup(t, envOpts{now: func() time.Time { return at }})
	e.guide(t)
	other, _ := testdb.NewLine(t, e.st, func(in *store.LineInput) {
		in.BouquetIDs, in.MaxConnections, in.IsMAG = []int64{e.bouquet}, 0, true
	})
	const otherMAC = "00:1A:79:12:34:57"
	_, err := e.st.CreateMAGDevice(context.Background(), other.ID, otherMAC)
	must(t, err)
	first, second := e.box(t), e.box(t)
	second.mac = otherMAC
	first.handshake("")
	second.handshake("")
	info := func(b *box, params ...string) []byte {
		t.Helper()
		code, ctype, body := b.call("itv", "get_epg_info", append([]string{"period", "3"}, params...)...)
		if code != 200 || !strings.HasPrefix(ctype, "application/json") {
			t.Fatalf("get_epg_info = %d %q %.200s", code, ctype, body)
		}
		return body
	}
	// The sports channels show live.test's guide too: an answer past the size from which
	// answers go gzip-encoded.
	testdb.MustExec(t, e.st, `UPDATE streams SET epg_channel_id = 'live.test' WHERE name LIKE 'Sport %'`)
	var before []byte
	eventually(t, "the sports channels in get_epg_info", func() bool {
		before = info(first)
		return bytes.Count(before, []byte(`"ch_id":"`+itoa(e.sports[19])+`"`)) > 0
	})
	if !bytes.Contains(before, []byte("live.test at ")) || len(before) < 16<<10 {
		t.Fatalf("get_epg_info of %d bytes:\n%.500s", len(before), before)
	}

	quietly(t, e.st, `UPDATE epg_programmes SET title = 'Edited Quietly' WHERE channel_id = 'live.test' AND start_at <= $1 AND stop_at > $1`, at)
	if got := info(second); !bytes.Equal(got, before) {
		t.Fatalf("the second box's answer is not the kept one:\n%.500s", got)
	}
	if got := info(second, "period", "4"); !bytes.Contains(got, []byte("Edited Quietly")) {
		t.Fatalf("another period, built after the edit, does not show it:\n%.500s", got)
	}

	testdb.MustExec(t, e.st, `UPDATE epg_programmes SET title = 'Edited Openly' WHERE title = 'Edited Quietly'`)
	after := info(first)
	if !bytes.Contains(after, []byte("Edited Openly")) {
		t.Fatal("the answer after an EPG change is still the kept one")
	}

	second.acceptEncoding = "gzip"
	_, _, z := second.call("itv", "get_epg_info", "period", "3")
	unzipped := testkit.Gunzip(t, z)
	second.acceptEncoding = "identity"
	if plain := info(second); !bytes.Equal(unzipped, after) || !bytes.Equal(plain, after) {
		t.Errorf("gzip-encoded (%d bytes) and plain (%d bytes) answers differ from the decoded one (%d bytes)",
			len(unzipped), len(plain), len(after))
	}
}

// TestEPGInfo_Period: period is hours from now, 3 when missing or not a positive number, and at
// most 24: an app's period=72 gets the 24 hours' rows (at most 10 per channel), not 3 hours'.
func TestEPGInfo_Period(t *testing.T) {
	t.Parallel()
	at := time.Now().Truncate(time.Minute).Add(30 * time.Second) // no hour passes between the asks
	e := setup(t, envOpts{now: func() time.Time { return at }})
	e.guide(t) // hourly programmes around now
	b := e.box(t)
	b.handshake("")
	rows := func(period string) int {
		t.Helper()
		var info struct {
			Data map[string][]json.RawMessage `json:"data"`
		}
		b.js(&info, "itv", "get_epg_info", "period", period)
		return len(info.Data[itoa(e.live)])
	}
	three, day := rows("3"), rows("24")
	if three < 3 || three > 4 || day != 10 {
		t.Fatalf("rows of the live channel: period 3 → %d, period 24 → %d; want 3 or 4, and 10", three, day)
	}
	for period, want := range map[string]int{"72": day, "25": day, "": three, "0": three, "-1": three, "x": three} {
		if got := rows(period); got != want {
			t.Errorf("period %q: %d rows, want %d", period, got, want)
		}
	}
}

// quietly runs sql with the tables' triggers off, so that it bumps no change version.
func quietly(t *testing.T, st *store.Store, sql string, args ...any) {
	t.Helper()
	ctx := t.Context()
	tx, err := st.Pool().Begin(ctx)
	must(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `SET LOCAL session_replication_role = replica`)
	must(t, err)
	_, err = tx.Exec(ctx, sql, args...)
	must(t, err)
	must(t, tx.Commit(ctx))
}
