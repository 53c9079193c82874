package store

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Subscriber is one cache that follows the database's changes.
type Subscriber struct {
	// Kinds are the change kinds OnChange receives.
	Kinds []ChangeKind
	// OnChange runs on the listener's goroutine for each change of Kinds and must be quick.
	OnChange func(Change)
	// OnReconnect (nil: none) runs after the listener reconnected: changes sent while it was
	// away are lost, so a cache must then be dropped or checked whole.
	OnReconnect func()
}

// Listener holds one dedicated connection LISTENing on ChangesChannel. It parses each payload
// once into a Change and hands it to the subscribers of its kind; a payload it cannot parse
// is ignored with a debug log.
type Listener struct {
	pool  *pgxpool.Pool
	log   *slog.Logger
	ready chan struct{}

	mu         sync.RWMutex
	byKind     map[ChangeKind][]func(Change)
	reconnects []func()
}

// NewListener returns a listener on pool's database; add its subscribers with Subscribe.
func NewListener(pool *pgxpool.Pool, log *slog.Logger) *Listener {
	return &Listener{pool: pool, log: log, ready: make(chan struct{}), byKind: map[ChangeKind][]func(Change){}}
}

// Subscribe adds sub. Subscribe before Run, or changes sent until then are not seen.
func (l *Listener) Subscribe(sub Subscriber) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sub.OnChange != nil {
		for _, k := range slices.Compact(slices.Sorted(slices.Values(sub.Kinds))) {
			// Clip: a dispatch running meanwhile keeps iterating its own copy.
			l.byKind[k] = append(slices.Clip(l.byKind[k]), sub.OnChange)
		}
	}
	if sub.OnReconnect != nil {
		l.reconnects = append(slices.Clip(l.reconnects), sub.OnReconnect)
	}
}

// Ready is closed once the first LISTEN is in place and the subscribers' OnReconnect ran for
// it: whatever they loaded before the LISTEN may have missed a change, so the first connection
// counts as a reconnect too.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// Run listens until ctx ends, reconnecting with backoff.
func (l *Listener) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := l.listen(ctx, func() {
			l.reconnected()
			if first {
				close(l.ready)
				first = false
			}
			backoff = 100 * time.Millisecond
		})
		if ctx.Err() != nil {
			return nil
		}
		l.log.Warn("database listener lost, reconnecting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
	return nil
}

func (l *Listener) listen(ctx context.Context, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, l.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("listener connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+ChangesChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		l.dispatch(n.Payload)
	}
}

// dispatch parses one payload and hands it to the subscribers of its kind.
func (l *Listener) dispatch(payload string) {
	c, err := ParseChange(payload)
	if err != nil {
		l.log.Debug("change notification ignored", "payload", truncateUTF8(payload, 64), "err", err)
		return
	}
	l.mu.RLock()
	subs := l.byKind[c.Kind]
	l.mu.RUnlock()
	for _, fn := range subs {
		fn(c)
	}
}

func (l *Listener) reconnected() {
	l.mu.RLock()
	fns := l.reconnects
	l.mu.RUnlock()
	for _, fn := range fns {
		fn()
	}
}
