package epg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// OpenURL opens an http(s):// or file:// URL, or a local path, for reading. size is the
// length when known, else -1. A non-200 answer is an error.
func OpenURL(ctx context.Context, client *http.Client, raw string) (rc io.ReadCloser, size int64, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 { // "C:\…" parses with scheme "c"
		f, err := os.Open(raw)
		if err != nil {
			return nil, -1, err
		}
		return f, fileSize(f), nil
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		f, err := os.Open(u.Path)
		if err != nil {
			return nil, -1, err
		}
		return f, fileSize(f), nil
	case "http", "https":
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
		if err != nil {
			return nil, -1, err
		}
		req.Header.Set("User-Agent", "xtreamd")
		resp, err := client.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) { // its text holds the whole URL, credentials included
				err = ue.Err
			}
			return nil, -1, fmt.Errorf("GET %s: %w", redactURL(u), err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, -1, fmt.Errorf("GET %s: %s", redactURL(u), resp.Status)
		}
		return resp.Body, resp.ContentLength, nil
	}
	return nil, -1, fmt.Errorf("unsupported scheme %s://", u.Scheme)
}

func fileSize(f *os.File) int64 {
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		return fi.Size()
	}
	return -1
}

// redactURL drops credentials and the query (provider URLs carry usernames and passwords).
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// RefresherOptions tune a Refresher.
type RefresherOptions struct {
	Every   time.Duration // between refreshes of every source; default 12h
	Retain  time.Duration // programmes that ended longer ago are deleted; default 8 days (7-day archives)
	Timeout time.Duration // per source fetch and import; default 15m
	Client  *http.Client  // default: http.Client with no overall timeout (Timeout bounds it)
	Now     func() time.Time
}

// Refresher fetches the enabled epg_sources on start and every Every, imports each, records
// last_fetched_at / last_error on the source, and deletes programmes past retention.
type Refresher struct {
	store *store.Store
	log   *slog.Logger
	opts  RefresherOptions
}

// NewRefresher returns a Refresher; run it with Run.
func NewRefresher(st *store.Store, log *slog.Logger, opts RefresherOptions) *Refresher {
	if opts.Every <= 0 {
		opts.Every = 12 * time.Hour
	}
	if opts.Retain <= 0 {
		opts.Retain = 8 * 24 * time.Hour
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 15 * time.Minute
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Refresher{store: st, log: log, opts: opts}
}

// Run refreshes every source now and then every Every until ctx ends. Failures are logged and
// recorded on the source; they never end Run.
func (r *Refresher) Run(ctx context.Context) error {
	tick := time.NewTicker(r.opts.Every)
	defer tick.Stop()
	for {
		if err := r.RefreshAll(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("epg refresh incomplete", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// RefreshAll refreshes every enabled source, then applies retention. It returns the sources'
// errors joined.
func (r *Refresher) RefreshAll(ctx context.Context) error {
	srcs, err := r.store.EPGSources(ctx, true)
	if err != nil {
		return err
	}
	var errs []error
	for _, src := range srcs {
		if _, err := r.RefreshSource(ctx, src); err != nil {
			errs = append(errs, fmt.Errorf("epg source %q: %w", src.Name, err))
		}
	}
	n, err := r.store.DeleteProgrammesBefore(ctx, r.opts.Now().Add(-r.opts.Retain))
	if err != nil {
		errs = append(errs, err)
	} else if n > 0 {
		r.log.Info("epg programmes past retention deleted", "count", n)
	}
	return errors.Join(errs...)
}

// RefreshSource fetches and imports one source and records the attempt on it.
func (r *Refresher) RefreshSource(ctx context.Context, src store.EPGSource) (ImportSummary, error) {
	return r.RefreshSourceVia(ctx, src, nil)
}

// RefreshSourceVia is RefreshSource with the fetched guide passed through wrap on its way to
// the importer (an import job counts its progress there); nil passes it as it is.
func (r *Refresher) RefreshSourceVia(ctx context.Context, src store.EPGSource, wrap func(io.Reader) io.Reader) (ImportSummary, error) {
	start := r.opts.Now()
	sum, err := r.fetchImport(ctx, src, wrap)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if rerr := r.store.RecordEPGFetch(recCtx, src.ID, start, msg); rerr != nil {
		err = errors.Join(err, rerr)
	}
	if err != nil {
		return sum, err
	}
	r.log.Info("epg source refreshed", "source", src.Name, "channels", sum.Channels, "programmes", sum.Programmes,
		"added", sum.Added, "updated", sum.Updated, "removed", sum.Removed, "dur_ms", r.opts.Now().Sub(start).Milliseconds())
	return sum, nil
}

func (r *Refresher) fetchImport(ctx context.Context, src store.EPGSource, wrap func(io.Reader) io.Reader) (ImportSummary, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	body, _, err := OpenURL(ctx, r.opts.Client, src.URL)
	if err != nil {
		return ImportSummary{}, err
	}
	defer body.Close()
	var in io.Reader = body
	if wrap != nil {
		in = wrap(body)
	}
	return Import(ctx, r.store, in, &src.ID)
}
