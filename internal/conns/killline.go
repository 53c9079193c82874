package conns

import (
	"context"
	"fmt"
	"strconv"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/store"
)

// KillLine ends every live connection of line lineID wherever it is served, as Kill does for
// one (TS, VOD and timeshift leases go and their instances stop them on the NOTIFY; HLS
// sessions are marked so their next poll is refused), in one transaction with the audit
// entry of who did it. It returns how many connections it ended.
func (m *Manager) KillLine(ctx context.Context, by audit.Actor, lineID int64) (int, error) {
	var n int
	err := m.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockLine(ctx, lineID); err != nil { // no lease opens meanwhile
			return err
		}
		live, err := tx.LiveLeases(ctx, lineID)
		if err != nil {
			return err
		}
		var hls, other [][16]byte
		for _, l := range live {
			if l.Container == ContainerHLS {
				hls = append(hls, l.ID)
			} else {
				other = append(other, l.ID)
			}
		}
		if err := tx.MarkLeasesKilled(ctx, hls, m.opts.HLSTTL); err != nil {
			return err
		}
		gone, err := tx.EndLeases(ctx, other, nil, ReasonKilled)
		if err != nil {
			return err
		}
		for _, id := range gone {
			if err := tx.Notify(ctx, store.KillLease(id)); err != nil {
				return err
			}
		}
		n = len(hls) + len(gone)
		return audit.Record(ctx, tx, by, audit.Entry{Action: "line.kill", TargetType: "line",
			TargetID: strconv.FormatInt(lineID, 10), Extra: map[string]any{"connections": n}})
	})
	if err != nil {
		return 0, fmt.Errorf("kill line %d: %w", lineID, err)
	}
	return n, nil
}
