package device_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/device"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

type fixture struct {
	st   *store.Store
	svc  *device.Service
	line store.Line
}

func setup(t *testing.T) fixture {
	t.Helper()
	st := store.New(testdb.New(t))
	acc := accounts.New(st, accounts.Options{Params: testdb.FastHashParams})
	line, _ := testdb.NewLine(t, st, nil)
	return fixture{st: st, svc: device.New(st, acc, device.Options{Params: testdb.FastHashParams}), line: line}
}

// approved is a code of device deviceID, approved for the fixture's line.
func (f fixture) approved(t *testing.T, deviceID string) device.Grant {
	t.Helper()
	g, err := f.svc.RequestCode(context.Background(), device.CodeRequest{ClientID: "tv-app", DeviceID: deviceID})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Approve(context.Background(), g.UserCode, device.Viewer{Line: &f.line}); err != nil {
		t.Fatalf("Approve: %v", err)
	}
	return g
}

// TestPoll_ConcurrentPollsIssueOnce: of many polls of one approved code at once, exactly one
// gets the credential; the others are told the code is used.
func TestPoll_ConcurrentPollsIssueOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	g := f.approved(t, "tv-1")
	const polls = 8
	var wg sync.WaitGroup
	outcomes := make([]device.PollResult, polls)
	errs := make([]error, polls)
	for i := range polls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outcomes[i], errs[i] = f.svc.Poll(context.Background(), g.DeviceCode, "tv-app", netip.Addr{})
		}()
	}
	wg.Wait()
	issued := 0
	for i, o := range outcomes {
		if errs[i] != nil {
			t.Fatalf("poll %d: %v", i, errs[i])
		}
		switch o.Outcome {
		case device.Issued:
			issued++
		case device.Invalid:
		default:
			t.Errorf("poll %d = %v, want Issued or Invalid", i, o.Outcome)
		}
	}
	creds, err := f.st.LineDeviceCredentials(context.Background(), f.line.ID)
	if issued != 1 || err != nil || len(creds) != 1 {
		t.Fatalf("issued %d times, %d credentials (%v); want exactly one", issued, len(creds), err)
	}
}

// TestIssue_ReplacesTheDevicesOldCredential: a device activated again on the same line keeps
// one credential; on another line, the first line's stays (a device id is the device's claim).
func TestIssue_ReplacesTheDevicesOldCredential(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	issue := func(deviceID string, line store.Line) *device.Credential {
		t.Helper()
		g, err := f.svc.RequestCode(ctx, device.CodeRequest{ClientID: "tv-app", DeviceID: deviceID})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Approve(ctx, g.UserCode, device.Viewer{Line: &line}); err != nil {
			t.Fatal(err)
		}
		r, err := f.svc.Poll(ctx, g.DeviceCode, "tv-app", netip.Addr{})
		if err != nil || r.Outcome != device.Issued {
			t.Fatalf("Poll = %+v, %v", r, err)
		}
		return r.Issued
	}
	first, second := issue("tv-1", f.line), issue("tv-1", f.line)
	creds, _ := f.st.LineDeviceCredentials(ctx, f.line.ID)
	if len(creds) != 1 || creds[0].ID != second.ID || first.ID == second.ID {
		t.Fatalf("credentials after activating twice = %+v", creds)
	}
	other, _ := testdb.NewLine(t, f.st, nil)
	issue("tv-1", other)
	if creds, _ := f.st.LineDeviceCredentials(ctx, f.line.ID); len(creds) != 1 {
		t.Fatalf("activating on another line revoked this line's credential: %+v", creds)
	}
}

// TestApprove_DeviceLimit: a line holds at most MaxPerLine device credentials; the approval
// that would pass it is refused, and the code stays pending.
func TestApprove_DeviceLimit(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for i := range device.MaxPerLine {
		testdb.MustExec(t, f.st, `INSERT INTO device_credentials (line_id, kind, username, password_hash, client_id, device_id)
			VALUES ($1, 'xtream', $2, '$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA', 'tv-app', $3)`,
			f.line.ID, fmt.Sprintf("dev-limit%d", i), fmt.Sprintf("d%d", i))
	}
	g, err := f.svc.RequestCode(context.Background(), device.CodeRequest{ClientID: "tv-app", DeviceID: "one-more"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Approve(context.Background(), g.UserCode, device.Viewer{Line: &f.line}); !errors.Is(err, device.ErrDeviceLimit) {
		t.Fatalf("Approve past the limit = %v, want ErrDeviceLimit", err)
	}
	if _, err := f.svc.Pending(context.Background(), g.UserCode); err != nil {
		t.Fatalf("the refused code is no longer pending: %v", err)
	}
	// A device already counted (activating again) is not one more.
	g, _ = f.svc.RequestCode(context.Background(), device.CodeRequest{ClientID: "tv-app", DeviceID: "d3"})
	if err := f.svc.Approve(context.Background(), g.UserCode, device.Viewer{Line: &f.line}); err != nil {
		t.Fatalf("re-activating a counted device = %v", err)
	}
}

// TestCodes_KeyedPerCluster: a code issued under one key is unknown under another (instances of
// a cluster must share the token secret the key derives from).
func TestCodes_KeyedPerCluster(t *testing.T) {
	t.Parallel()
	f := setup(t)
	acc := accounts.New(f.st, accounts.Options{Params: testdb.FastHashParams})
	a := device.New(f.st, acc, device.Options{Key: []byte("key-a-0123456789abcdef0123456789")})
	b := device.New(f.st, acc, device.Options{Key: []byte("key-b-0123456789abcdef0123456789")})
	g, err := a.RequestCode(context.Background(), device.CodeRequest{ClientID: "tv-app", DeviceID: "tv-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Pending(context.Background(), g.UserCode); !errors.Is(err, device.ErrNoSuchCode) {
		t.Fatalf("another key found the code: %v", err)
	}
	if r, _ := b.Poll(context.Background(), g.DeviceCode, "tv-app", netip.Addr{}); r.Outcome != device.Invalid {
		t.Fatalf("another key polled the code: %v", r.Outcome)
	}
	if _, err := a.Pending(context.Background(), g.UserCode); err != nil {
		t.Fatalf("the issuing key: %v", err)
	}
}
