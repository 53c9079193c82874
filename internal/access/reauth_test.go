package access_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/token"
)

// reauthWait bounds the wait for a re-check's end (the requirement is a second; this is the
// failure bound on a loaded machine, and each latency is logged).
const reauthWait = 10 * time.Second

// waitEnded waits until lease l's stream ended with reason, and returns how long it took.
func waitEnded(t *testing.T, l *conns.Lease, reason string, since time.Time) time.Duration {
	t.Helper()
	select {
	case <-l.Done():
	case <-time.After(reauthWait):
		t.Fatalf("stream still open %s after the change (want %s)", reauthWait, reason)
	}
	took := time.Since(since)
	if l.Reason() != reason {
		t.Fatalf("stream ended with %q, want %q", l.Reason(), reason)
	}
	return took
}

// activityReason is the end reason the activity log holds for a lease.
func activityReason(t *testing.T, st *store.Store, id [16]byte) string {
	t.Helper()
	var reason string
	testdb.Eventually(t, reauthWait, "the activity log row", func() bool {
		return st.Pool().QueryRow(context.Background(), `SELECT end_reason FROM activity_log WHERE lease_id = $1`, id).Scan(&reason) == nil
	})
	return reason
}

func hlsOpen(line store.Line, pw string, ip netip.Addr) access.Request {
	r := open(line, pw, ip, streamInBouquet)
	r.Format, r.Container = "m3u8", conns.ContainerHLS
	return r
}

// TestReauth_EachCause: a stream (TS) and an HLS session open on instance b end when a change
// made through instance a refuses them, with the cause as the activity log's reason; the
// session is known as ended on both instances (its segment links stop everywhere).
func TestReauth_EachCause(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lineSQL := func(sql string) func(*testing.T, *store.Store, store.Line) {
		return func(t *testing.T, st *store.Store, l store.Line) { testdb.MustExec(t, st, sql, l.ID) }
	}
	tests := []struct {
		name   string
		line   func(*store.LineInput)
		change func(*testing.T, *store.Store, store.Line)
		reason string
	}{
		{"banned", nil, func(t *testing.T, st *store.Store, l store.Line) {
			must(t, st.UpdateLineFlags(ctx, l.ID, true, false, nil))
		}, "banned"},
		{"disabled", nil, func(t *testing.T, st *store.Store, l store.Line) {
			must(t, st.UpdateLineFlags(ctx, l.ID, false, true, nil))
		}, "disabled"},
		{"expiry moved into the past", nil, lineSQL(`UPDATE lines SET exp_date = now() - interval '1 day' WHERE id = $1`), "expired"},
		{"deleted", nil, lineSQL(`DELETE FROM lines WHERE id = $1`), access.ReasonDeleted},
		{"password changed", nil, func(t *testing.T, st *store.Store, l store.Line) {
			h, err := credential.Hash("another password", testdb.FastHashParams)
			must(t, err)
			must(t, st.SetLinePasswordHash(ctx, l.ID, h))
		}, access.ReasonPasswordChanged},
		{"allowed IPs", nil, lineSQL(`UPDATE lines SET allowed_ips = '{10.0.0.0/8}' WHERE id = $1`), "ip_ban"},
		{"forced country", nil, lineSQL(`UPDATE lines SET forced_country = 'GB' WHERE id = $1`), "country_disallow"},
		{"allowed user agents", nil, lineSQL(`UPDATE lines SET allowed_user_agents = '{OtherPlayer}' WHERE id = $1`), "user_agent_ban"},
		{"ISP lock", nil, lineSQL(`UPDATE lines SET isp_lock = true, isp_name = 'Beta Telecom' WHERE id = $1`), "isp_lock_failed"},
		{"global blocked CIDR", nil, func(t *testing.T, st *store.Store, _ store.Line) {
			must(t, st.BlockIP(ctx, netip.MustParsePrefix("198.51.100.0/24"), "admin", "test", nil))
		}, "ip_ban"},
		{"global allowed countries", nil, func(t *testing.T, st *store.Store, _ store.Line) {
			must(t, st.SetAllowedCountries(ctx, []string{"GB"}))
		}, "country_disallow"},
		{"global blocked user agent", nil, func(t *testing.T, st *store.Store, _ store.Line) {
			must(t, st.AddBlockedUserAgent(ctx, "libvlc", "substring"))
		}, "user_agent_ban"},
		{"global blocked ISP", nil, func(t *testing.T, st *store.Store, _ store.Line) {
			must(t, st.AddBlockedISP(ctx, ptr("Alpha Net"), nil))
		}, "isp_lock_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.NewDSN(t)
			a, b := newInstance(t, dsn, fixtureOpts{}), newInstance(t, dsn, fixtureOpts{})
			a.run(t)
			b.run(t)
			line, pw := testdb.NewLine(t, a.st, func(in *store.LineInput) {
				in.MaxConnections = 0
				if tt.line != nil {
					tt.line(in)
				}
			})
			ts := b.check(t, open(line, pw, ipDE, streamInBouquet))
			hls := b.check(t, hlsOpen(line, pw, ipDE))
			if ts.Code != access.OK || hls.Code != access.OK {
				t.Fatalf("opens = %v, %v", ts.Code, hls.Code)
			}
			start := time.Now()
			tt.change(t, a.st, line)
			took := waitEnded(t, ts.Lease, tt.reason, start)
			for _, f := range []*fixture{a, b} {
				testdb.Eventually(t, reauthWait, "the session known as ended", func() bool { return f.conns.SessionEnded(hls.Lease.ID) })
			}
			t.Logf("%s: stream ended %v after the change", tt.name, took)
			if got := activityReason(t, a.st, ts.Lease.ID); got != tt.reason {
				t.Errorf("activity of the stream = %q, want %q", got, tt.reason)
			}
			if got := activityReason(t, a.st, hls.Lease.ID); got != tt.reason {
				t.Errorf("activity of the HLS session = %q, want %q", got, tt.reason)
			}
			if n := b.checker.RegisteredStreams(); n != 1 {
				t.Errorf("registered streams after the end = %d, want the ended session until it is pruned", n)
			}
		})
	}
}

// TestReauth_UnrelatedChangeKeepsStreams: a change that still admits the stream (another
// line, a note, another blocked address) ends nothing.
func TestReauth_UnrelatedChangeKeepsStreams(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	a, b := newInstance(t, dsn, fixtureOpts{}), newInstance(t, dsn, fixtureOpts{})
	b.run(t)
	line, pw := testdb.NewLine(t, a.st, func(in *store.LineInput) { in.MaxConnections = 0 })
	other, _ := testdb.NewLine(t, a.st, nil)
	ts := b.check(t, open(line, pw, ipDE, streamInBouquet))
	testdb.MustExec(t, a.st, `UPDATE lines SET admin_notes = 'vip' WHERE id = $1`, line.ID)
	must(t, a.st.UpdateLineFlags(context.Background(), other.ID, true, false, nil))
	must(t, a.st.BlockIP(context.Background(), netip.MustParsePrefix("203.0.113.0/24"), "admin", "test", nil))
	// A ban after them is the witness that the changes before it were all handled.
	must(t, a.st.UpdateLineFlags(context.Background(), line.ID, true, false, nil))
	waitEnded(t, ts.Lease, "banned", time.Now())
}

// TestReauth_IssuingCredential: a stream opened with a play token ends when the password it
// was issued under changes; one opened by a MAG portal session when the device's session ends.
func TestReauth_IssuingCredential(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testdb.NewDSN(t)
	a, b := newInstance(t, dsn, fixtureOpts{}), newInstance(t, dsn, fixtureOpts{})
	b.run(t)
	line, _ := testdb.NewLine(t, a.st, func(in *store.LineInput) { in.MaxConnections = 0 })
	tok, err := b.tokens.Sign(token.Claims{Kind: token.KindLive, LineID: line.ID, StreamID: streamInBouquet,
		ExpiresUnix: time.Now().Add(time.Hour).Unix(), Credential: access.PasswordCredential(line.PasswordHash)})
	must(t, err)
	byToken := b.check(t, access.Request{Who: access.PlayToken{Token: tok, Kind: token.KindLive}, ClientIP: ipDE,
		UserAgent: testUA, StreamOpen: true, StreamID: streamInBouquet, Format: "ts", Container: conns.ContainerTS})
	mac := mustMAC(t, "00:1A:79:00:00:77")
	dev, err := a.st.CreateMAGDevice(ctx, line.ID, mac.String())
	must(t, err)
	must(t, a.st.SetMAGToken(ctx, dev, sha256Sum("session-1")))
	byPortal := b.check(t, access.Request{Who: access.PortalSession{MAC: mac, Token: "session-1"}, ClientIP: ipDE,
		UserAgent: testUA, StreamOpen: true, StreamID: streamInBouquet, Format: "ts", Container: conns.ContainerTS})
	if byToken.Code != access.OK || byPortal.Code != access.OK {
		t.Fatalf("opens = %v, %v", byToken.Code, byPortal.Code)
	}
	start := time.Now()
	must(t, a.st.SetMAGToken(ctx, dev, sha256Sum("session-2")))
	waitEnded(t, byPortal.Lease, access.ReasonDeviceChanged, start)
	select {
	case <-byToken.Lease.Done():
		t.Fatal("the play-token stream ended on the device's new session")
	default:
	}
	h, err := credential.Hash("new password", testdb.FastHashParams)
	must(t, err)
	start = time.Now()
	must(t, a.st.SetLinePasswordHash(ctx, line.ID, h))
	waitEnded(t, byToken.Lease, access.ReasonPasswordChanged, start)
}

// TestReauth_ExpiryByTimer: a stream ends at its line's exp_date with no change at all.
func TestReauth_ExpiryByTimer(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.run(t)
	exp := f.clock.Now().Add(300 * time.Millisecond)
	line, pw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.MaxConnections = 0; in.ExpDate = &exp })
	d := f.check(t, open(line, pw, ipDE, streamInBouquet))
	if d.Code != access.OK {
		t.Fatalf("open = %v", d.Code)
	}
	// The checker's clock reaches exp_date when the timer (real time) fires.
	f.clock.Advance(time.Second)
	waitEnded(t, d.Lease, "expired", time.Now())
}

// TestReauth_AfterReconnect: an instance that missed the notification (its listener was away)
// reads every line with open streams again when the listener is back.
func TestReauth_AfterReconnect(t *testing.T) {
	t.Parallel()
	f := setup(t)
	testdb.Go(t, f.checker.Run) // no listener: no notification reaches it
	line, pw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.MaxConnections = 0 })
	d := f.check(t, open(line, pw, ipDE, streamInBouquet))
	must(t, f.st.UpdateLineFlags(context.Background(), line.ID, true, false, nil))
	select {
	case <-d.Lease.Done():
		t.Fatal("stream ended without a notification or a reconnect")
	default:
	}
	f.checker.OnReconnect()
	waitEnded(t, d.Lease, "banned", time.Now())
}

// TestReauth_FormatNoLongerAllowed: taking ts off a line's output formats ends its TS stream
// and leaves its HLS session.
func TestReauth_FormatNoLongerAllowed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.run(t)
	line, pw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.MaxConnections = 0 })
	ts := f.check(t, open(line, pw, ipDE, streamInBouquet))
	hls := f.check(t, hlsOpen(line, pw, ipDE))
	testdb.MustExec(t, f.st, `UPDATE lines SET allowed_output_formats = '{m3u8}' WHERE id = $1`, line.ID)
	waitEnded(t, ts.Lease, "format_disallowed", time.Now())
	if f.conns.SessionEnded(hls.Lease.ID) {
		t.Error("the HLS session ended on a change that still allows it")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
