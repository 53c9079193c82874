package store_test

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// The admin side of the store (008_admin_catalog and the lists of 002/004/005): keyset pages, security list
// inserts, connection search and counters, the dashboard, import jobs.

// testHash is a real argon2id hash (cheap parameters), for fixture admins.
func testHash(t *testing.T) string {
	t.Helper()
	h, err := credential.Hash("pw", testdb.FastHashParams)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestKeyset_Pages(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	for i, n := range []string{"c", "a", "b", "d"} {
		if _, err := st.CreateCategory(ctx, store.Category{Kind: "live", Name: n, Position: int32(10 - i)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	page := store.Keyset{Sort: "name", Limit: 3}
	for {
		got, err := st.ListCategories(ctx, store.CategoryFilter{Kind: "live", Page: page})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got {
			names = append(names, c.Name)
		}
		if len(got) < 3 {
			break
		}
		last := got[len(got)-1]
		page.AfterID, page.AfterKey = last.ID, last.Name
	}
	if len(names) != 4 || names[0] != "a" || names[3] != "d" {
		t.Fatalf("pages by name = %v", names)
	}
	desc, err := st.ListCategories(ctx, store.CategoryFilter{Page: store.Keyset{Sort: "position", Desc: true, Limit: 1}})
	if err != nil || len(desc) != 1 || desc[0].Name != "c" {
		t.Fatalf("first by position desc = %+v, %v", desc, err)
	}
	for _, k := range []store.Keyset{{Sort: "icon"}, {Sort: "position", AfterID: 1, AfterKey: "ten"}} {
		if _, err := st.ListCategories(ctx, store.CategoryFilter{Page: k}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ListCategories(%+v) = %v, want ErrInvalid", k, err)
		}
	}
	if err := st.LockRow(ctx, store.Table("lines; DROP TABLE x"), 1); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("LockRow of an unknown table = %v, want ErrInvalid", err)
	}
}

func TestInsertBlockedIP_ConflictUnlessExpired(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	n := netip.MustParsePrefix("198.51.100.0/24")
	id, err := st.InsertBlockedIP(ctx, n, "spam", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.InsertBlockedIP(ctx, n, "again", nil); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a live block again = %v, want ErrConflict", err)
	}
	testdb.MustExec(t, st, `UPDATE blocked_ips SET expires_at = now() - interval '1 minute' WHERE id = $1`, id)
	if _, err := st.InsertBlockedIP(ctx, n, "again", nil); err != nil {
		t.Fatalf("a block over an expired one = %v", err)
	}
	got, err := st.ListBlockedIPs(ctx, store.BlockedIPFilter{Contains: netip.MustParseAddr("198.51.100.7")})
	if err != nil || len(got) != 1 || got[0].Reason != "again" || got[0].ExpiresAt != nil {
		t.Fatalf("blocks = %+v, %v", got, err)
	}
}

func TestConnections_CountersAndDashboard(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	owner, err := st.CreateAdmin(ctx, "res", testHash(t), "reseller")
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	mine, _ := testdb.NewLine(t, st, func(in *store.LineInput) { in.OwnerAdminID = &owner; in.IsTrial = true })
	other, _ := testdb.NewLine(t, st, nil)
	testdb.NewLine(t, st, func(in *store.LineInput) { in.ExpDate = &past })
	testdb.NewLine(t, st, func(in *store.LineInput) { in.Banned = true })
	lease := func(line store.Line, n byte, stream int64, ip string) [16]byte {
		id := [16]byte{15: n}
		if _, err := st.InsertLease(ctx, store.LeaseRow{ID: id, LineID: line.ID, StreamID: stream, InstanceID: "i",
			Container: "ts", ClientIP: netip.MustParseAddr(ip)}, time.Minute); err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, b, c := lease(mine, 1, 7, "192.0.2.1"), lease(other, 2, 7, "192.0.2.2"), lease(other, 3, 8, "2001:db8::1")
	ids := [][16]byte{a, b, c}
	if alive, err := st.RenewLeasesCounting(ctx, ids, []int64{1000, 500, 0}, time.Minute); err != nil || len(alive) != 3 {
		t.Fatalf("RenewLeasesCounting = %v, %v", alive, err)
	}
	// Ten seconds later (as the heartbeat would see it), lease a has delivered 10,000 more.
	testdb.MustExec(t, st, `UPDATE connection_leases SET bytes_at = now() - interval '10 seconds'`)
	if _, err := st.RenewLeasesCounting(ctx, ids, []int64{11000, 500, 0}, time.Minute); err != nil {
		t.Fatal(err)
	}
	d, err := st.DashboardCounts(ctx, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := store.LineCounts{Total: 4, Active: 2, Expired: 1, Banned: 1, Trial: 1}
	if d.Lines != want || d.Connections != 3 || d.LinesOnline != 2 || d.BytesPerSecond < 990 || d.BytesPerSecond > 1010 ||
		len(d.TopStreams) != 2 || d.TopStreams[0].StreamID != 7 || d.TopStreams[0].Viewers != 2 {
		t.Fatalf("dashboard = %+v", d)
	}
	d, err = st.DashboardCounts(ctx, []int64{owner}, 10)
	if err != nil || d.Lines.Total != 1 || d.Connections != 1 || d.TopStreams[0].Viewers != 1 {
		t.Fatalf("the reseller's dashboard = %+v, %v", d, err)
	}
	got, err := st.SearchConnections(ctx, store.ConnectionFilter{Network: netip.MustParsePrefix("192.0.2.0/24"), Limit: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("first page = %+v, %v", got, err)
	}
	next, err := st.SearchConnections(ctx, store.ConnectionFilter{Network: netip.MustParsePrefix("192.0.2.0/24"),
		AfterStarted: got[0].StartedAt, AfterID: got[0].ID})
	if err != nil || len(next) != 1 || next[0].ID == got[0].ID {
		t.Fatalf("second page = %+v, %v", next, err)
	}
	if mineOnly, _ := st.SearchConnections(ctx, store.ConnectionFilter{Owners: []int64{owner}}); len(mineOnly) != 1 ||
		mineOnly[0].Username != mine.Username || mineOnly[0].BytesOut != 11000 {
		t.Fatalf("the reseller's connections = %+v", mineOnly)
	}
}

func TestImportJobs_Lifecycle(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	j, err := st.CreateImportJob(ctx, store.ImportJob{Kind: "m3u", Origin: "http://p/get.php", Actor: "root", InstanceID: "a"})
	if err != nil || j.State != store.JobQueued || string(j.Options) != "{}" {
		t.Fatalf("created %+v, %v", j, err)
	}
	if err := st.StartImportJob(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	total := int64(100)
	if err := st.HeartbeatImportJobs(ctx, []store.ImportProgress{{ID: j.ID, BytesRead: 40, BytesTotal: &total}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.ImportJobByID(ctx, j.ID); got.State != store.JobRunning || got.BytesRead != 40 || *got.BytesTotal != 100 {
		t.Fatalf("running = %+v", got)
	}
	if err := st.FinishImportJob(ctx, j.ID, 100, map[string]int{"added": 3}, ""); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishImportJob(ctx, j.ID, 100, nil, "again"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("finishing a finished job = %v, want ErrNotFound", err)
	}
	stale, _ := st.CreateImportJob(ctx, store.ImportJob{Kind: "xmltv", Origin: "upload: g.xml", Actor: "root", InstanceID: "b"})
	testdb.MustExec(t, st, `UPDATE import_jobs SET heartbeat_at = now() - interval '5 minutes' WHERE id = $1`, stale.ID)
	if n, err := st.FailStaleImportJobs(ctx, time.Minute, "gone"); err != nil || n != 1 {
		t.Fatalf("FailStaleImportJobs = %d, %v", n, err)
	}
	list, err := st.ListImportJobs(ctx, 0, 1)
	if err != nil || len(list) != 1 || list[0].ID != stale.ID || list[0].Error != "gone" || list[0].FinishedAt == nil {
		t.Fatalf("newest job = %+v, %v", list, err)
	}
	if older, _ := st.ListImportJobs(ctx, stale.ID, 10); len(older) != 1 || older[0].ID != j.ID || string(older[0].Summary) != `{"added": 3}` {
		t.Fatalf("older jobs = %+v", older)
	}
}

func TestDeleteSetting_WritesOnlyARow(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	version := func() (v int64) {
		if err := st.Pool().QueryRow(ctx, `SELECT version FROM change_versions WHERE scope = 'settings'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	v := version()
	if err := st.DeleteSetting(ctx, "message"); err != nil || version() != v {
		t.Fatalf("deleting a setting without a row = %v, version %d → %d", err, v, version())
	}
	if err := st.SetSetting(ctx, "message", "hi"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSetting(ctx, "message"); err != nil || version() == v+1 {
		t.Fatalf("deleting a row = %v, version %d → %d", err, v, version())
	}
}
