package access_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// metric sums the samples of a counter family of the fixture's checker whose labels include
// label=value ("" for any).
func (f *fixture) metric(t testing.TB, name, label, value string) float64 {
	t.Helper()
	fams, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, fam := range fams {
		if fam.GetName() != name {
			continue
		}
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if label == "" || l.GetName() == label && l.GetValue() == value {
					sum += m.GetCounter().GetValue()
					break
				}
			}
		}
	}
	return sum
}

// verifiedOn starts an instance on dsn (running its background loops) and a line (mod adjusts
// it) whose password verified there, with its record written.
func verifiedOn(t testing.TB, dsn string, mod func(*store.LineInput)) (*fixture, store.Line, string) {
	t.Helper()
	a := newInstance(t, dsn, fixtureOpts{})
	a.run(t)
	line, pw := testdb.NewLine(t, a.st, mod)
	if mod != nil {
		pw = benchPassword
	}
	if d := a.check(t, login(line, pw, ipDE)); d.Code != access.OK {
		t.Fatalf("first login = %v", d.Code)
	}
	waitRecord(t, a.st, line.ID)
	return a, line, pw
}

// benchPassword is the password of lines whose hash a test sets itself.
const benchPassword = "correct horse battery staple"

// waitRecord waits until the line has a live record and returns it.
func waitRecord(t testing.TB, st *store.Store, lineID int64) store.VerifiedCredential {
	t.Helper()
	var rec store.VerifiedCredential
	testdb.Eventually(t, 10*time.Second, "the verified-credential record written", func() bool {
		var err error
		rec, err = st.VerifiedCredential(context.Background(), lineID)
		return err == nil
	})
	return rec
}

// TestRecords_FreshInstanceAdmitsWithoutHashing: once a line's password verified on one
// instance, a fresh instance (a restart, a failover) admits it without running argon2id, and
// still hashes a wrong password. Without records (today's behaviour) the fresh instance hashes.
func TestRecords_FreshInstanceAdmitsWithoutHashing(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	_, line, pw := verifiedOn(t, dsn, nil)
	tests := []struct {
		name       string
		opts       fixtureOpts
		password   string
		want       access.Code
		wantHashes uint64
	}{
		{"right password", fixtureOpts{}, pw, access.OK, 0},
		{"wrong password", fixtureOpts{}, pw + "x", access.AuthFailed, 1},
		{"right password, records off", fixtureOpts{noRecords: true}, pw, access.OK, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newInstance(t, dsn, tt.opts)
			if d := b.check(t, login(line, tt.password, ipDE)); d.Code != tt.want {
				t.Fatalf("login on a fresh instance = %v, want %v", d.Code, tt.want)
			}
			if n := b.hasher.Stats().Verifications; n != tt.wantHashes {
				t.Errorf("argon2 runs on the fresh instance = %d, want %d", n, tt.wantHashes)
			}
			// The fresh instance keeps what it learnt: the next request is an in-memory hit.
			if tt.want == access.OK {
				lookups := b.metric(t, "xtreamd_credential_record_lookups_total", "", "")
				b.check(t, login(line, tt.password, ipDE))
				if n := b.metric(t, "xtreamd_credential_record_lookups_total", "", ""); n != lookups {
					t.Errorf("record lookups %v → %v on the second request, want none", lookups, n)
				}
			}
		})
	}
}

// TestRecords_NoUseWithoutThePepper: a record is worth nothing to anyone without the pepper.
// An instance with another one (another token secret) hashes, a record copied to another line
// or written by someone with database access alone admits nobody, and a password change ends
// the record in its own transaction.
func TestRecords_NoUseWithoutThePepper(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	a, alice, alicePW := verifiedOn(t, dsn, nil)
	bob, _ := testdb.NewLine(t, a.st, nil)
	rec := waitRecord(t, a.st, alice.ID)

	// Another cluster's pepper: the record does not match, the password is hashed.
	other := credential.NewLimiter(credential.LimiterOptions{Slots: 1})
	b := newInstance(t, dsn, fixtureOpts{hasher: other})
	b.checker = access.New(access.Deps{Store: b.st, Conns: b.conns, Hasher: other, CredentialRecordTTL: time.Hour,
		Cache: credential.NewCache(credential.CacheOptions{TTL: time.Minute, MaxEntries: 10,
			Pepper: credential.Pepper([]byte("another-cluster-secret-0123456789"))})})
	if err := b.checker.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := b.check(t, login(alice, alicePW, ipDE)); d.Code != access.OK || other.Stats().Verifications != 1 {
		t.Errorf("login under another pepper = %v after %d argon2 runs, want OK after 1", d.Code, other.Stats().Verifications)
	}

	// Alice's record copied to bob's line admits nobody with alice's password as bob.
	testdb.MustExec(t, a.st, `INSERT INTO verified_credentials (line_id, mac, expires_at) VALUES ($1, $2, now() + interval '1 hour')`,
		bob.ID, rec.MAC)
	c := newInstance(t, dsn, fixtureOpts{})
	if d := c.check(t, login(bob, alicePW, ipDE)); d.Code != access.AuthFailed {
		t.Errorf("bob with alice's password and alice's record = %v, want AUTH_FAILED", d.Code)
	}

	// A password change drops the record at once; the old password fails on a fresh instance.
	h, err := credential.Hash("new password", testdb.FastHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.SetLinePasswordHash(context.Background(), alice.ID, h); err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.VerifiedCredential(context.Background(), alice.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("record after the password change = %v, want ErrNotFound", err)
	}
	d := newInstance(t, dsn, fixtureOpts{})
	if got := d.check(t, login(alice, alicePW, ipDE)); got.Code != access.AuthFailed {
		t.Errorf("old password on a fresh instance = %v, want AUTH_FAILED", got.Code)
	}
}

// TestRecords_FailuresCostAlike: a failed login does the same record lookup whether or not the
// username exists (timing tells nothing), and neither writes a record.
func TestRecords_FailuresCostAlike(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.set(t, map[string]any{"flood_auth_failures": 0})
	line, _ := testdb.NewLine(t, f.st, nil)
	unknown := line
	unknown.Username = "nobody-" + line.Username
	lookups := func() float64 { return f.metric(t, "xtreamd_credential_record_lookups_total", "", "") }
	for _, l := range []store.Line{line, unknown} {
		before := lookups()
		if d := f.check(t, login(l, "wrong", ipDE)); d.Code != access.AuthFailed {
			t.Fatalf("login(%s, wrong) = %v", l.Username, d.Code)
		}
		if n := lookups() - before; n != 1 {
			t.Errorf("login(%s, wrong): %v record lookups, want 1", l.Username, n)
		}
	}
	if n := f.metric(t, "xtreamd_credential_record_writes_total", "", ""); n != 0 {
		t.Errorf("%v records written after failures, want 0", n)
	}
	if n := f.hasher.Stats().Verifications; n != 2 {
		t.Errorf("%d argon2 runs, want 2 (one per failure)", n)
	}
}

// TestRecords_RefreshedWhileUsed: a record found past a quarter of its life is written again,
// so a viewer who keeps coming back keeps one; a fresh one is not rewritten on every use.
func TestRecords_RefreshedWhileUsed(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	a, line, pw := verifiedOn(t, dsn, nil)
	writes := a.metric(t, "xtreamd_credential_record_writes_total", "outcome", "written")

	b := newInstance(t, dsn, fixtureOpts{})
	b.run(t)
	b.check(t, login(line, pw, ipDE)) // a fresh record: found, not rewritten
	testdb.MustExec(t, a.st, `UPDATE verified_credentials SET expires_at = now() + interval '1 hour' WHERE line_id = $1`, line.ID)
	c := newInstance(t, dsn, fixtureOpts{})
	c.run(t)
	if d := c.check(t, login(line, pw, ipDE)); d.Code != access.OK || c.hasher.Stats().Verifications != 0 {
		t.Fatalf("login with an aging record = %v after %d argon2 runs, want OK without any", d.Code, c.hasher.Stats().Verifications)
	}
	testdb.Eventually(t, 10*time.Second, "the aging record written again for a full TTL", func() bool {
		rec, err := c.st.VerifiedCredential(context.Background(), line.ID)
		return err == nil && time.Until(rec.ExpiresAt) > 23*time.Hour
	})
	if n := b.metric(t, "xtreamd_credential_record_writes_total", "", ""); n != 0 {
		t.Errorf("instance b rewrote a fresh record (%v writes), want none", n)
	}
	if n := a.metric(t, "xtreamd_credential_record_writes_total", "outcome", "written"); n != writes {
		t.Errorf("instance a wrote %v records after the first, want none", n-writes)
	}
}

// TestRecords_Warm: a fresh instance warmed from the records admits the viewers verified
// before without a record lookup or a hash, bounded by the limit; a wrong password still
// fails (and hashes), and a line whose password changed is not warmed.
func TestRecords_Warm(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	a := newInstance(t, dsn, fixtureOpts{})
	a.run(t)
	type viewer struct {
		line store.Line
		pw   string
	}
	var vs []viewer
	for range 3 {
		l, pw := testdb.NewLine(t, a.st, nil)
		vs = append(vs, viewer{l, pw})
		a.check(t, login(l, pw, ipDE))
		waitRecord(t, a.st, l.ID)
	}
	h, err := credential.Hash("changed", testdb.FastHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.SetLinePasswordHash(context.Background(), vs[2].line.ID, h); err != nil {
		t.Fatal(err)
	}

	if n, err := newInstance(t, dsn, fixtureOpts{}).checker.Warm(context.Background(), 1); n != 1 || err != nil {
		t.Errorf("Warm(limit 1) = %d, %v; want 1", n, err)
	}
	if n, err := newInstance(t, dsn, fixtureOpts{noRecords: true}).checker.Warm(context.Background(), 10); n != 0 || err != nil {
		t.Errorf("Warm with records off = %d, %v; want 0", n, err)
	}
	b := newInstance(t, dsn, fixtureOpts{})
	if n, err := b.checker.Warm(context.Background(), 10); n != 2 || err != nil {
		t.Fatalf("Warm = %d, %v; want the 2 lines whose records are live", n, err)
	}
	for _, v := range vs[:2] {
		if d := b.check(t, login(v.line, v.pw, ipDE)); d.Code != access.OK {
			t.Errorf("warmed login(%s) = %v, want OK", v.line.Username, d.Code)
		}
	}
	if n := b.metric(t, "xtreamd_credential_record_lookups_total", "", ""); n != 0 || b.hasher.Stats().Verifications != 0 {
		t.Errorf("warmed logins: %v record lookups, %d hashes; want none", n, b.hasher.Stats().Verifications)
	}
	if d := b.check(t, login(vs[0].line, "wrong", ipDE)); d.Code != access.AuthFailed || b.hasher.Stats().Verifications != 1 {
		t.Errorf("wrong password after the warm = %v after %d hashes, want AUTH_FAILED after 1", d.Code, b.hasher.Stats().Verifications)
	}
	if d := b.check(t, login(vs[2].line, vs[2].pw, ipDE)); d.Code != access.AuthFailed {
		t.Errorf("old password of the changed line = %v, want AUTH_FAILED", d.Code)
	}
}

// TestRecords_WrittenAtShutdown: a record still queued when the checker stops is written
// before Run returns, so a viewer verified just before a restart is known to the next process.
// (Eight rounds: without the final write, Run's select would still write a round's record now
// and then, when it happens to take the record before the cancellation.)
func TestRecords_WrittenAtShutdown(t *testing.T) {
	t.Parallel()
	f := setup(t) // not running: a record stays queued until Run
	for round := range 8 {
		line, pw := testdb.NewLine(t, f.st, nil)
		if d := f.check(t, login(line, pw, ipDE)); d.Code != access.OK {
			t.Fatalf("login = %v", d.Code)
		}
		if _, err := f.st.VerifiedCredential(context.Background(), line.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("record before Run = %v, want none yet", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := f.checker.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.VerifiedCredential(context.Background(), line.ID); err != nil {
			t.Fatalf("round %d: record after Run returned = %v, want written", round, err)
		}
	}
}

// TestRecords_KnownViewersSkipAFullHashQueue: with the only hashing slot taken and first logins
// queued behind it, a viewer verified before (here, from memory, or on another instance, from
// the record) is admitted at once: it never enters the queue. The queued first logins are
// served once the slot frees (in order: TestLimiter_FirstComeFirstServed), each within the
// limiter's bound (beyond it: ErrBusy, TestCheck_HashQueueDeadline).
func TestRecords_KnownViewersSkipAFullHashQueue(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	_, remote, remotePW := verifiedOn(t, dsn, nil)
	// The slot holder's verification runs until the test lets go of it: the first logins
	// queue behind it however fast or loaded the machine is.
	holding, letGo := "", make(chan struct{})
	release := sync.OnceFunc(func() { close(letGo) })
	t.Cleanup(release) // a test that stopped early does not leave the holder waiting
	hasher := credential.NewLimiter(credential.LimiterOptions{Slots: 1, MaxWait: time.Minute,
		Verify: func(encodedHash, password string) (bool, error) {
			if encodedHash == holding {
				<-letGo
			}
			return credential.Verify(encodedHash, password)
		}})
	b := newInstance(t, dsn, fixtureOpts{hasher: hasher})
	b.set(t, map[string]any{"flood_auth_failures": 0})
	local, localPW := testdb.NewLine(t, b.st, nil)
	if d := b.check(t, login(local, localPW, ipDE)); d.Code != access.OK {
		t.Fatalf("first login of the local viewer = %v", d.Code)
	}
	holder, _ := testdb.NewLine(t, b.st, nil)
	holding = holder.PasswordHash
	const queued = 3
	var firsts []store.Line
	var firstPWs []string
	for range queued {
		l, pw := testdb.NewLine(t, b.st, nil)
		firsts, firstPWs = append(firsts, l), append(firstPWs, pw)
	}
	results := make(chan access.Code, 1+queued)
	go func() { results <- b.checkCode(t, login(holder, "wrong", ipDE)) }()
	testdb.Eventually(t, 10*time.Second, "the holder's verification in its slot", func() bool { return hasher.Stats().InFlight == 1 })
	for i := range queued {
		go func() { results <- b.checkCode(t, login(firsts[i], firstPWs[i], ipDE)) }()
	}
	testdb.Eventually(t, 10*time.Second, "the first logins queued", func() bool { return hasher.Stats().Waiting == queued })

	before := hasher.Stats()
	for _, v := range []struct {
		name string
		line store.Line
		pw   string
	}{{"verified here (memory)", local, localPW}, {"verified on another instance (record)", remote, remotePW}} {
		start := time.Now()
		if d := b.check(t, login(v.line, v.pw, ipDE)); d.Code != access.OK {
			t.Errorf("%s while the hashing queue is full = %v, want OK", v.name, d.Code)
		}
		t.Logf("%s: admitted in %v with %d logins queued", v.name, time.Since(start), queued)
	}
	if after := hasher.Stats(); after.Waited != before.Waited || after.Verifications != before.Verifications {
		t.Errorf("known viewers entered the hashing queue: waited %d → %d, hashes %d → %d",
			before.Waited, after.Waited, before.Verifications, after.Verifications)
	}
	release()
	want := map[access.Code]int{access.AuthFailed: 1, access.OK: queued}
	got := map[access.Code]int{}
	for range 1 + queued {
		got[<-results]++
	}
	if !maps.Equal(got, want) {
		t.Errorf("slot holder and queued first logins = %v, want %v", got, want)
	}
}

// checkCode is check's code, for a goroutine (no Fatal there): an error is reported and
// returned as 0, a lease released at once.
func (f *fixture) checkCode(t testing.TB, r access.Request) access.Code {
	d, err := f.checker.Check(context.Background(), r)
	if err != nil {
		t.Errorf("Check: %v", err)
		return 0
	}
	if d.Lease != nil {
		d.Lease.Release(context.Background())
	}
	return d.Code
}
