package epg

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Sources administers the XMLTV sources the Refresher fetches: each change is checked, written
// in one transaction with its audit entry. "Refresh now" is an import job
// (internal/importer), so its progress can be followed.
type Sources struct {
	store *store.Store
}

// NewSources returns the administration of st's XMLTV sources.
func NewSources(st *store.Store) *Sources { return &Sources{store: st} }

// Source is a configured XMLTV source.
type Source struct {
	ID   int64  `json:"id" audit:"-"`
	Name string `json:"name"`
	// URL of the guide. Provider URLs carry credentials: the audit log records only that it
	// changed. Admins register http(s) URLs; file:// sources come from `xtreamd import xmltv`
	// on the server itself.
	URL           string     `json:"url" audit:"secret"`
	Enabled       bool       `json:"enabled"`
	LastFetchedAt *time.Time `json:"last_fetched_at" audit:"-"`
	LastError     string     `json:"last_error" audit:"-"`
	CreatedAt     time.Time  `json:"created_at" audit:"-"`
}

func sourceOf(r store.EPGSource) Source {
	return Source{ID: r.ID, Name: r.Name, URL: r.URL, Enabled: r.Enabled, LastFetchedAt: r.LastFetchedAt,
		LastError: r.LastError, CreatedAt: r.CreatedAt}
}

var sourceRefusals = input.Refusals{
	Conflict: &input.FieldError{Field: "url", Reason: "a source has this URL", Kind: input.ErrConflict},
	NotFound: &input.FieldError{Field: "id", Reason: "no such EPG source", Kind: input.ErrNotFound},
	Invalid:  &input.FieldError{Field: "url", Reason: "refused by the schema", Kind: input.ErrInvalid},
}

func refusedSource(err error) error {
	return sourceRefusals.Of(err, store.ErrConflict, store.ErrNotFound, store.ErrInvalid)
}

// CheckGuideURL is the rule for a guide URL an admin gives (an EPG source, an XMLTV import by
// URL): http or https with a host, at most 4096 bytes.
func CheckGuideURL(field, raw string) error {
	if !input.Text(raw, 4096) || strings.ContainsAny(raw, " \t\r\n") {
		return input.Invalid(field, "a URL of at most 4096 bytes, without spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.HasPrefix(raw, u.Scheme+"://") || u.Host == "" {
		return input.Invalid(field, "an http:// or https:// URL")
	}
	return nil
}

// check checks a source; its URL only when it is new (a file:// source the command line
// registered can still be renamed or disabled).
func (in Source) check(oldURL string) error {
	if !input.Text(in.Name, 1024) || strings.TrimSpace(in.Name) == "" || len([]rune(in.Name)) > 256 {
		return input.Invalid("name", "1 to 256 characters")
	}
	if in.URL != oldURL {
		return CheckGuideURL("url", in.URL)
	}
	return nil
}

// List returns every source by id.
func (s *Sources) List(ctx context.Context) ([]Source, error) {
	rows, err := s.store.EPGSources(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("epg sources: %w", err)
	}
	out := make([]Source, len(rows))
	for i, r := range rows {
		out[i] = sourceOf(r)
	}
	return out, nil
}

// Get reads one source.
func (s *Sources) Get(ctx context.Context, id int64) (Source, error) {
	r, err := s.store.EPGSourceByID(ctx, id)
	if err != nil {
		return Source{}, fmt.Errorf("epg source %d: %w", id, refusedSource(err))
	}
	return sourceOf(r), nil
}

// Create registers a source; the Refresher fetches it at its next round (or an import job
// now).
func (s *Sources) Create(ctx context.Context, a audit.Actor, in Source) (Source, error) {
	if err := in.check(""); err != nil {
		return Source{}, fmt.Errorf("create epg source: %w", err)
	}
	var out Source
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		id, err := tx.CreateEPGSource(ctx, store.EPGSource{Name: in.Name, URL: in.URL, Enabled: in.Enabled})
		if err != nil {
			return err
		}
		r, err := tx.EPGSourceByID(ctx, id)
		if err != nil {
			return err
		}
		out = sourceOf(r)
		return recordSource(ctx, tx, a, "epg_source.create", id, Source{}, out)
	})
	if err != nil {
		return Source{}, fmt.Errorf("create epg source: %w", refusedSource(err))
	}
	return out, nil
}

// Update applies edit to source id (name, URL, enabled).
func (s *Sources) Update(ctx context.Context, a audit.Actor, id int64, edit func(*Source) error) (Source, error) {
	var out Source
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockRow(ctx, store.TableEPGSources, id); err != nil {
			return err
		}
		r, err := tx.EPGSourceByID(ctx, id)
		if err != nil {
			return err
		}
		before := sourceOf(r)
		next := before
		if err := edit(&next); err != nil {
			return err
		}
		next.ID, next.LastFetchedAt, next.LastError, next.CreatedAt = id, before.LastFetchedAt, before.LastError, before.CreatedAt
		if err := next.check(before.URL); err != nil {
			return err
		}
		out = next
		if next.Name == before.Name && next.URL == before.URL && next.Enabled == before.Enabled {
			return nil
		}
		if err := tx.UpdateEPGSource(ctx, store.EPGSource{ID: id, Name: next.Name, URL: next.URL, Enabled: next.Enabled}); err != nil {
			return err
		}
		return recordSource(ctx, tx, a, "epg_source.update", id, before, next)
	})
	if err != nil {
		return Source{}, fmt.Errorf("update epg source %d: %w", id, refusedSource(err))
	}
	return out, nil
}

// Delete removes source id; the channels and programmes it brought stay until retention or
// another source replaces them.
func (s *Sources) Delete(ctx context.Context, a audit.Actor, id int64) error {
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		r, err := tx.EPGSourceByID(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteEPGSource(ctx, id); err != nil {
			return err
		}
		return recordSource(ctx, tx, a, "epg_source.delete", id, sourceOf(r), Source{})
	})
	if err != nil {
		return fmt.Errorf("delete epg source %d: %w", id, refusedSource(err))
	}
	return nil
}

func recordSource(ctx context.Context, tx *store.Store, a audit.Actor, action string, id int64, before, after Source) error {
	return audit.Record(ctx, tx, a, audit.Change(action, "epg_source", id, before, after))
}
