package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ChangesChannel is the NOTIFY channel the schema's triggers (and Notify) send on. Payloads
// are "line:<id>", "catalog:<version>", "epg:<version>", "security:<version>",
// "settings:<version>" and, from code, "kill:<lease id>".
const ChangesChannel = "xtreamd_changes"

// Listener holds one dedicated connection LISTENing on ChangesChannel and hands every payload
// to its handlers. After a reconnect it calls OnReconnect, because notifications sent while it
// was away are lost: caches must then be dropped whole.
type Listener struct {
	pool        *pgxpool.Pool
	log         *slog.Logger
	onNotify    func(payload string)
	onReconnect func()
	ready       chan struct{}
}

// NewListener returns a listener; onNotify runs on the listener's goroutine and must be quick.
func NewListener(pool *pgxpool.Pool, log *slog.Logger, onNotify func(string), onReconnect func()) *Listener {
	return &Listener{pool: pool, log: log, onNotify: onNotify, onReconnect: onReconnect, ready: make(chan struct{})}
}

// Ready is closed once the first LISTEN is in place.
func (l *Listener) Ready() <-chan struct{} { return l.ready }

// Run listens until ctx ends, reconnecting with backoff.
func (l *Listener) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := l.listen(ctx, func() {
			if first {
				close(l.ready)
				first = false
			} else if l.onReconnect != nil {
				l.onReconnect()
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
		l.onNotify(n.Payload)
	}
}

// Notify sends payload on ChangesChannel, inside the current transaction if s is one (then it
// is delivered on commit only).
func (s *Store) Notify(ctx context.Context, payload string) error {
	if _, err := s.q.Exec(ctx, "SELECT pg_notify($1, $2)", ChangesChannel, payload); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}
