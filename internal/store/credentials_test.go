package store_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func mac(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// TestVerifiedCredentials_PutGetExpire: a record is read back while live, replaced by a newer
// one, skipped when its line is gone, and swept once expired.
func TestVerifiedCredentials_PutGetExpire(t *testing.T) {
	t.Parallel()
	st, ctx := newStore(t), t.Context()
	a, _ := testdb.NewLine(t, st, nil)
	b, _ := testdb.NewLine(t, st, nil)
	if _, err := st.VerifiedCredential(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("VerifiedCredential before any = %v, want ErrNotFound", err)
	}
	recs := []store.VerifiedCredential{{LineID: a.ID, MAC: mac(1)}, {LineID: b.ID, MAC: mac(2)},
		{LineID: a.ID, MAC: mac(3)}, {LineID: 1 << 40, MAC: mac(4)}} // a twice (the last wins); no such line
	if err := st.PutVerifiedCredentials(ctx, recs, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := st.VerifiedCredential(ctx, a.ID)
	if err != nil || !bytes.Equal(got.MAC, mac(3)) || time.Until(got.ExpiresAt) < 59*time.Minute {
		t.Fatalf("VerifiedCredential(a) = %x, expires in %v, %v; want the last MAC, an hour", got.MAC, time.Until(got.ExpiresAt), err)
	}
	testdb.MustExec(t, st, `UPDATE verified_credentials SET expires_at = now() - interval '1 second' WHERE line_id = $1`, b.ID)
	if _, err := st.VerifiedCredential(ctx, b.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("VerifiedCredential(expired) = %v, want ErrNotFound", err)
	}
	if n, err := st.SweepVerifiedCredentials(ctx); n != 1 || err != nil {
		t.Errorf("SweepVerifiedCredentials = %d, %v; want 1 (the expired one)", n, err)
	}
	if _, err := st.VerifiedCredential(ctx, a.ID); err != nil {
		t.Errorf("VerifiedCredential(a) after the sweep = %v, want the live record", err)
	}
}

// TestVerifiedCredentials_DroppedWithTheLine: the record goes in the transaction that changes
// the username or password hash, or deletes the line; any other change of the line keeps it.
func TestVerifiedCredentials_DroppedWithTheLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sql      string
		wantKept bool
	}{
		{"password hash changed", `UPDATE lines SET password_hash = password_hash || 'x' WHERE id = $1`, false},
		{"username changed", `UPDATE lines SET username = username || 'x' WHERE id = $1`, false},
		{"line deleted", `DELETE FROM lines WHERE id = $1`, false},
		{"banned", `UPDATE lines SET banned = true WHERE id = $1`, true},
		{"isp recorded", `UPDATE lines SET isp_name = 'Alpha Net' WHERE id = $1`, true},
		{"credentials rewritten unchanged", `UPDATE lines SET username = username, password_hash = password_hash WHERE id = $1`, true},
	}
	st, ctx := newStore(t), t.Context()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line, _ := testdb.NewLine(t, st, nil)
			other, _ := testdb.NewLine(t, st, nil)
			if err := st.PutVerifiedCredentials(ctx, []store.VerifiedCredential{{LineID: line.ID, MAC: mac(1)},
				{LineID: other.ID, MAC: mac(2)}}, time.Hour); err != nil {
				t.Fatal(err)
			}
			tx, err := st.Pool().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if _, err := tx.Exec(ctx, tt.sql, line.ID); err != nil {
				t.Fatal(err)
			}
			var inTx int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM verified_credentials WHERE line_id = $1`, line.ID).Scan(&inTx); err != nil {
				t.Fatal(err)
			}
			if kept := inTx == 1; kept != tt.wantKept {
				t.Errorf("record kept inside the writing transaction = %v, want %v", kept, tt.wantKept)
			}
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			_, err = st.VerifiedCredential(ctx, line.ID)
			if kept := err == nil; kept != tt.wantKept {
				t.Errorf("record kept after the commit = %v (%v), want %v", kept, err, tt.wantKept)
			}
			if _, err := st.VerifiedCredential(ctx, other.ID); err != nil {
				t.Errorf("another line's record = %v, want kept", err)
			}
		})
	}
}

// TestVerifiedCredentials_Warm: the live records, newest first and bounded, and their lines.
func TestVerifiedCredentials_Warm(t *testing.T) {
	t.Parallel()
	st, ctx := newStore(t), t.Context()
	var lines []store.Line
	for i := range 3 {
		l, _ := testdb.NewLine(t, st, nil)
		lines = append(lines, l)
		if err := st.PutVerifiedCredentials(ctx, []store.VerifiedCredential{{LineID: l.ID, MAC: mac(byte(i))}}, time.Duration(i+1)*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	testdb.MustExec(t, st, `UPDATE verified_credentials SET expires_at = now() - interval '1 second' WHERE line_id = $1`, lines[2].ID)
	recs, err := st.LiveVerifiedCredentials(ctx, 10)
	if err != nil || len(recs) != 2 || recs[0].LineID != lines[1].ID || recs[1].LineID != lines[0].ID {
		t.Fatalf("LiveVerifiedCredentials = %+v, %v; want lines 1 then 0 (newest first, the expired one left out)", recs, err)
	}
	if recs, err := st.LiveVerifiedCredentials(ctx, 1); err != nil || len(recs) != 1 || recs[0].LineID != lines[1].ID {
		t.Errorf("LiveVerifiedCredentials(limit 1) = %+v, %v; want line 1", recs, err)
	}
	got, err := st.LinesByIDs(ctx, []int64{lines[0].ID, lines[2].ID, 1 << 40})
	if err != nil || len(got) != 2 {
		t.Fatalf("LinesByIDs = %d lines, %v; want 2", len(got), err)
	}
	for _, l := range got {
		if l.ID == lines[0].ID && l.Username != lines[0].Username {
			t.Errorf("LinesByIDs line %d = %q, want %q", l.ID, l.Username, lines[0].Username)
		}
	}
}
