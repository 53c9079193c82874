package access

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"time"

	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Verified-credential records. After a password verifies, its credential.Key (a MAC under the
// pepper every instance shares and the database never holds) is written to the line's record
// (store.VerifiedCredential) for Deps.CredentialRecordTTL. An instance whose in-memory cache
// misses (it has just started, or took over another's viewers, or its entry aged out) finds
// the key there with one indexed lookup instead of running argon2id: a reconnect storm after a
// restart costs lookups, not hashes. A record proves only that these credentials verified
// against the line's current stored hash (the hash is inside the MAC); the line itself is
// still read and checked on every request.

const (
	// maxRecordBatch bounds the records written in one statement.
	maxRecordBatch = 512
	// recordQueue bounds the records waiting to be written; beyond it a record is dropped (it
	// costs one argon2id verification on some later cache miss, nothing else).
	recordQueue = 4096
)

// recordsOn reports whether records are read and written.
func (c *Checker) recordsOn() bool { return c.d.CredentialRecordTTL > 0 }

// sharedRecord reports whether line lineID's record holds k. A record past a quarter of its
// life is written again (in the background), so the records of viewers who keep coming back
// never lapse. An error only means no record: the check goes on to argon2id.
func (c *Checker) sharedRecord(ctx context.Context, lineID int64, k credential.Key) bool {
	if !c.recordsOn() {
		return false
	}
	rec, err := c.d.Store.VerifiedCredential(ctx, lineID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		c.recordLookups.WithLabelValues("none").Inc()
		return false
	case err != nil:
		c.recordLookups.WithLabelValues("error").Inc()
		return false
	case !hmac.Equal(rec.MAC, k[:]):
		c.recordLookups.WithLabelValues("mismatch").Inc()
		return false
	}
	c.recordLookups.WithLabelValues("hit").Inc()
	if rec.ExpiresAt.Sub(c.now()) < c.d.CredentialRecordTTL*3/4 {
		c.queueRecord(lineID, k)
	}
	return true
}

// queueRecord has k written as line lineID's record, without waiting for the write.
func (c *Checker) queueRecord(lineID int64, k credential.Key) {
	if !c.recordsOn() {
		return
	}
	select {
	case c.records <- store.VerifiedCredential{LineID: lineID, MAC: k[:]}:
	default:
		c.recordWrites.WithLabelValues("dropped").Inc()
	}
}

// runRecordWrites writes queued records, as many as wait at once in one statement, until ctx
// ends; then it writes what is still queued (within a few seconds), so the viewers verified
// just before a restart are known to the next process too.
func (c *Checker) runRecordWrites(ctx context.Context) {
	batch := make([]store.VerifiedCredential, 0, maxRecordBatch)
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
			defer cancel()
			for fctx.Err() == nil && c.writeQueued(fctx, batch[:0]) > 0 {
			}
			return
		case r := <-c.records:
			// Not cancelled with ctx: a write under way at shutdown completes.
			c.writeQueued(context.WithoutCancel(ctx), append(batch[:0], r))
		}
	}
}

// writeQueued writes batch and the records queued now (up to maxRecordBatch in all), and
// returns how many it wrote or tried to.
func (c *Checker) writeQueued(ctx context.Context, batch []store.VerifiedCredential) int {
more:
	for len(batch) < maxRecordBatch {
		select {
		case r := <-c.records:
			batch = append(batch, r)
		default:
			break more
		}
	}
	if len(batch) == 0 {
		return 0
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := c.d.Store.PutVerifiedCredentials(wctx, batch, c.d.CredentialRecordTTL)
	cancel()
	switch {
	case err == nil:
		c.recordWrites.WithLabelValues("written").Add(float64(len(batch)))
	case ctx.Err() == nil:
		c.recordWrites.WithLabelValues("failed").Add(float64(len(batch)))
		c.d.Log.Warn("writing verified-credential records", "err", err)
	}
	return len(batch)
}

// sweepRecords deletes expired records (every instance does; the statement is idempotent).
func (c *Checker) sweepRecords(ctx context.Context) {
	if !c.recordsOn() {
		return
	}
	if _, err := c.d.Store.SweepVerifiedCredentials(ctx); err != nil && ctx.Err() == nil {
		c.d.Log.Warn("sweeping verified-credential records", "err", err)
	}
}

// Warm fills this instance's caches from the shared records, at most limit of them, the most
// recently written first: each line and the key that verified for it, so that a reconnect storm
// right after a start costs no database read before the lease. It returns the lines warmed.
// Call it once the change listener is in place: a line that changes while it loads is dropped
// from the line cache, as any load is, and a key can only ever match the hash it was made over.
func (c *Checker) Warm(ctx context.Context, limit int) (int, error) {
	if !c.recordsOn() || limit <= 0 {
		return 0, nil
	}
	gen, now := c.lines.generation(), c.now()
	recs, err := c.d.Store.LiveVerifiedCredentials(ctx, limit)
	if err != nil {
		return 0, fmt.Errorf("access: warm: %w", err)
	}
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.LineID
	}
	lines, err := c.d.Store.LinesByIDs(ctx, ids)
	if err != nil {
		return 0, fmt.Errorf("access: warm: %w", err)
	}
	byID := make(map[int64]*Line, len(lines))
	for i := range lines {
		byID[lines[i].ID] = &lines[i]
	}
	n := 0
	for _, r := range recs {
		line := byID[r.LineID]
		if line == nil || len(r.MAC) != len(credential.Key{}) {
			continue
		}
		c.lines.put(line.Username, lineEntry{line: line, fetched: now}, gen)
		c.d.Cache.RememberKey(credential.Key(r.MAC), line.ID)
		n++
	}
	return n, nil
}
