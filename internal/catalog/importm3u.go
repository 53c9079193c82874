package catalog

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/xtreamd/xtreamd/internal/catalog/m3u"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/source"
	"github.com/xtreamd/xtreamd/internal/store"
)

// M3UOptions say where an M3U import goes.
type M3UOptions struct {
	Bouquet string // entries are appended to this bouquet, created when missing (required)
	Kind    string // store.KindLive (default), store.KindRadio or store.KindMovie
	// Files, when set, also refuses entries whose local URL or catch-up template lies outside
	// the media directories (or inside the data directory) as CheckStream says; nil checks
	// the shape only. Serving checks the place again either way.
	Files *source.Files
}

// Skip is an entry or line left out of an import, with why.
type Skip struct {
	Line   int
	Reason string
}

func (s Skip) String() string { return fmt.Sprintf("line %d: %s", s.Line, s.Reason) }

// M3USummary reports an M3U import.
type M3USummary struct {
	Entries         int // #EXTINF entries with a URL
	Added           int // new streams
	Updated         int // existing streams whose name, group, logo, EPG id, archive or source changed
	Unchanged       int
	Skipped         []Skip
	CategoriesAdded int
	BouquetCreated  bool
	BouquetAdded    int // streams appended to the bouquet
}

// ImportM3U imports an operator's playlist: each group-title becomes a category of the kind
// (created after the existing ones, in playlist order), each entry a stream whose source 0 is
// the entry's URL (tvg-id → EPG channel id, tvg-logo → icon, catchup-days/timeshift/tvg-rec →
// archive days, catchup-source), and the entries are appended to the bouquet in playlist
// order. Streams are matched by (kind, URL) — store.MatchBySource — so a re-run finds every
// entry unchanged, writes nothing and reports 0 added. Everything is written in one
// transaction: an import is whole or absent. The playlist is the provider's: an entry whose
// URL or catchup-source CheckStream refuses is skipped, with the reason in the summary.
func ImportM3U(ctx context.Context, st *store.Store, r io.Reader, opts M3UOptions) (M3USummary, error) {
	if opts.Kind == "" {
		opts.Kind = store.KindLive
	}
	switch opts.Kind {
	case store.KindLive, store.KindRadio, store.KindMovie:
	default:
		return M3USummary{}, fmt.Errorf("import m3u: kind %q: want live, radio or movie", opts.Kind)
	}
	if strings.TrimSpace(opts.Bouquet) == "" {
		return M3USummary{}, fmt.Errorf("import m3u: a bouquet name is required")
	}
	pl, err := m3u.Parse(r)
	if err != nil {
		return M3USummary{}, fmt.Errorf("import m3u: %w", err)
	}
	var sum M3USummary
	for _, p := range pl.Problems {
		sum.Skipped = append(sum.Skipped, Skip{Line: p.Line, Reason: p.Reason})
	}
	sum.Entries = len(pl.Entries)
	plan := planM3U(pl.Entries, opts, &sum)
	err = st.InTx(ctx, func(tx *store.Store) error { return plan.write(ctx, tx, opts, &sum) })
	if err != nil {
		return sum, fmt.Errorf("import m3u: %w", err)
	}
	sortSkips(sum.Skipped)
	return sum, nil
}

// m3uPlan is a parsed playlist ready to write: the streams in playlist order and the group
// names in order of first use.
type m3uPlan struct {
	items  []m3uItem
	groups []string
}

type m3uItem struct {
	line  int
	group string
	in    store.StreamInput
}

// planM3U maps the entries to streams, recording in sum the ones that cannot be one.
func planM3U(entries []m3u.Entry, opts M3UOptions, sum *M3USummary) m3uPlan {
	var p m3uPlan
	seenGroup := map[string]bool{}
	for _, e := range entries {
		in, reason := streamFromEntry(e, opts)
		if reason != "" {
			sum.Skipped = append(sum.Skipped, Skip{Line: e.Line, Reason: reason})
			continue
		}
		group := input.Sanitize(e.Group, 256)
		if group != "" && !seenGroup[group] {
			seenGroup[group] = true
			p.groups = append(p.groups, group)
		}
		p.items = append(p.items, m3uItem{line: e.Line, group: group, in: in})
	}
	return p
}

// write runs inside the import's transaction: categories (of the import's kind), streams,
// then the bouquet.
func (p m3uPlan) write(ctx context.Context, tx *store.Store, opts M3UOptions, sum *M3USummary) error {
	cats, added, err := tx.EnsureCategories(ctx, opts.Kind, p.groups)
	if err != nil {
		return err
	}
	sum.CategoriesAdded = added
	inputs := make([]store.StreamInput, len(p.items))
	for i, it := range p.items {
		inputs[i] = it.in
		if it.group != "" {
			id := cats[it.group]
			inputs[i].CategoryID = &id
		}
	}
	res, err := tx.ImportStreams(ctx, store.MatchBySource, inputs)
	if err != nil {
		return err
	}
	ids := p.tally(res, sum)
	bid, created, err := tx.EnsureBouquet(ctx, opts.Bouquet)
	if err != nil {
		return err
	}
	sum.BouquetCreated = created
	sum.BouquetAdded, err = tx.AppendBouquetStreams(ctx, bid, ids)
	return err
}

// tally counts the outcomes of ImportStreams and returns the ids to append to the bouquet, in
// playlist order; an entry repeating an earlier entry's URL is skipped, naming that line.
func (p m3uPlan) tally(res []store.ImportedStream, sum *M3USummary) []int64 {
	firstLine := map[int64]int{}
	var ids []int64
	for i, r := range res {
		switch r.Outcome {
		case store.Added:
			sum.Added++
		case store.Updated:
			sum.Updated++
		case store.Unchanged:
			sum.Unchanged++
		case store.Duplicate:
			sum.Skipped = append(sum.Skipped, Skip{Line: p.items[i].line,
				Reason: fmt.Sprintf("duplicate of line %d (same URL)", firstLine[r.ID])})
			continue
		}
		firstLine[r.ID] = p.items[i].line
		ids = append(ids, r.ID)
	}
	return ids
}

// streamFromEntry maps a playlist entry to a stream, or says why it cannot be one. The URL and
// the catchup-source are the provider's: both pass CheckStream, as every catalog write does.
func streamFromEntry(e m3u.Entry, opts M3UOptions) (store.StreamInput, string) {
	kind := opts.Kind
	raw := e.URL
	if err := source.Check(raw); err != nil {
		return store.StreamInput{}, "URL " + err.Error()
	}
	if strings.HasPrefix(raw, "/") {
		raw = (&url.URL{Scheme: "file", Path: raw}).String() // stored sources are URLs
	}
	u, err := url.Parse(raw)
	if err != nil {
		return store.StreamInput{}, "URL refused: not a URL"
	}
	name := e.Name
	if name == "" {
		name = e.Attrs[m3u.AttrTVGName]
	}
	name = input.Sanitize(name, 512)
	if name == "" {
		return store.StreamInput{}, "no channel name"
	}
	in := store.StreamInput{
		Kind:          kind,
		Name:          name,
		Icon:          input.Sanitize(e.Attrs[m3u.AttrTVGLogo], 4096),
		TVArchiveDays: int32(e.CatchupDays()),
		Sources:       []store.Source{{URL: raw, Kind: sourceKind(u)}},
	}
	if id := input.Sanitize(e.Attrs[m3u.AttrTVGID], 256); id != "" {
		in.EPGChannelID = &id
	}
	if cs := e.Attrs[m3u.AttrCatchupSource]; cs != "" {
		in.CatchupSource = &cs
	}
	if err := CheckStream(in, opts.Files); err != nil {
		return store.StreamInput{}, err.Error()
	}
	if kind == store.KindMovie {
		ext := strings.ToLower(strings.TrimPrefix(path.Ext(u.Path), "."))
		if !validContainer(ext) {
			ext = "mp4"
		}
		in.ContainerExtension = &ext
	}
	return in, ""
}

// sourceKind guesses the kind of a source URL that source.Check accepted: a local file, else
// HLS or TS by the path's extension, else left to the relay (auto).
func sourceKind(u *url.URL) string {
	p := strings.ToLower(u.Path)
	switch {
	case strings.EqualFold(u.Scheme, "file"):
		return store.SourceFile
	case strings.HasSuffix(p, ".m3u8"):
		return store.SourceHLS
	case strings.HasSuffix(p, ".ts"):
		return store.SourceTS
	}
	return store.SourceAuto
}

func validContainer(ext string) bool {
	if len(ext) < 1 || len(ext) > 8 {
		return false
	}
	for _, c := range ext {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func sortSkips(s []Skip) {
	slices.SortStableFunc(s, func(a, b Skip) int { return a.Line - b.Line })
}
