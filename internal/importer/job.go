package importer

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// The kinds of import.
const (
	KindM3U   = "m3u"
	KindXMLTV = "xmltv"
)

// Request is one import to start: a URL or an uploaded file (exactly one), and the options
// of its kind.
type Request struct {
	Kind       string    // KindM3U or KindXMLTV
	URL        string    // an http(s) URL to fetch
	Upload     io.Reader // or the file's content (read by Start, up to MaxUpload)
	UploadName string    // the uploaded file's name, for the job's origin
	Options    JobOptions
}

// JobOptions are a job's importer options.
type JobOptions struct {
	Bouquet    string `json:"bouquet,omitempty"`     // m3u: the bouquet the entries are appended to (created when missing)
	StreamKind string `json:"stream_kind,omitempty"` // m3u: live (default), radio or movie
	SourceID   int64  `json:"source_id,omitempty"`   // xmltv: the EPG source refreshed (RefreshSource)
}

// Job is an import as any instance reports it.
type Job struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	State      string     `json:"state"`  // queued, running, done or failed
	Origin     string     `json:"origin"` // the URL without credentials or query, or "upload: <name>"
	Options    JobOptions `json:"options"`
	Actor      string     `json:"actor"`
	BytesRead  int64      `json:"bytes_read"`
	BytesTotal *int64     `json:"bytes_total"` // nil while unknown
	Summary    *Summary   `json:"summary"`     // once done
	Error      string     `json:"error"`       // why it failed
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// Summary is what an import did: entries (M3U) or programmes (XMLTV) added, updated, left
// unchanged, and skipped with the reasons; Details holds the kind's other counts
// (categories_added, bouquet_added …; channels_added, removed …).
type Summary struct {
	Added     int64            `json:"added"`
	Updated   int64            `json:"updated"`
	Unchanged int64            `json:"unchanged"`
	Skipped   int64            `json:"skipped"`
	Skips     []Skip           `json:"skips"`
	Details   map[string]int64 `json:"details"`
}

// Skip is a reason entries were left out: the playlist line of one entry (M3U), or how many
// programmes and channels (XMLTV).
type Skip struct {
	Line   int    `json:"line,omitempty"`
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// maxSkips caps the skips a summary lists (Skipped counts them all).
const maxSkips = 500

func jobOf(r store.ImportJob) Job {
	j := Job{ID: r.ID, Kind: r.Kind, State: r.State, Origin: r.Origin, Actor: r.Actor, BytesRead: r.BytesRead,
		BytesTotal: r.BytesTotal, Error: r.Error, CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
	_ = json.Unmarshal(r.Options, &j.Options)
	if len(r.Summary) > 0 {
		var s Summary
		if json.Unmarshal(r.Summary, &s) == nil {
			j.Summary = &s
		}
	}
	return j
}

// Job reads job id.
func (r *Runner) Job(ctx context.Context, id int64) (Job, error) {
	row, err := r.store.ImportJobByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Job{}, fmt.Errorf("import job %d: %w", id, input.NotFound("id", "no such import"))
	}
	if err != nil {
		return Job{}, err
	}
	return jobOf(row), nil
}

// Jobs returns the jobs newest first; before pages (the previous page's last id).
func (r *Runner) Jobs(ctx context.Context, before int64, limit int) ([]Job, error) {
	rows, err := r.store.ListImportJobs(ctx, before, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Job, len(rows))
	for i, row := range rows {
		out[i] = jobOf(row)
	}
	return out, nil
}

func checkRequest(req *Request) error {
	if req.Kind != KindM3U && req.Kind != KindXMLTV {
		return input.Invalid("kind", "m3u or xmltv")
	}
	switch {
	case (req.URL == "") == (req.Upload == nil):
		return input.Invalid("url", "give a URL or upload a file (one of them)")
	case req.URL != "":
		if err := epg.CheckGuideURL("url", req.URL); err != nil {
			return err
		}
	case !input.Text(req.UploadName, 1024):
		return input.Invalid("file_name", "at most 1024 bytes of text")
	}
	o := &req.Options
	if req.Kind == KindXMLTV {
		if o.Bouquet != "" || o.StreamKind != "" {
			return input.Invalid("bouquet", "an XMLTV import takes no bouquet or stream kind")
		}
		return nil
	}
	if !input.Text(o.Bouquet, 1024) || strings.TrimSpace(o.Bouquet) == "" || len([]rune(o.Bouquet)) > 256 {
		return input.Invalid("bouquet", "required: the bouquet's name (1 to 256 characters)")
	}
	switch o.StreamKind {
	case "":
		o.StreamKind = store.KindLive
	case store.KindLive, store.KindRadio, store.KindMovie:
	default:
		return input.Invalid("stream_kind", "live, radio or movie")
	}
	return nil
}

// Start checks req, spools an upload (ErrTooLarge beyond MaxUpload), records the job with its
// audit entry and queues it (ErrBusy when this instance's queue is full). The job runs once
// Run runs.
func (r *Runner) Start(ctx context.Context, a audit.Actor, req Request) (Job, error) {
	if err := checkRequest(&req); err != nil {
		return Job{}, fmt.Errorf("start import: %w", err)
	}
	j := newJob(req)
	origin := "upload: " + input.Sanitize(req.UploadName, 256)
	if req.URL != "" {
		origin = redact(req.URL)
	} else {
		if err := r.spool(j); err != nil {
			return Job{}, fmt.Errorf("start import: %w", err)
		}
		j.total.Store(j.size)
	}
	return r.enqueue(ctx, a, j, origin)
}

// RefreshSource starts a job that fetches and imports EPG source id now, recording the
// attempt on the source as the scheduled refresh does.
func (r *Runner) RefreshSource(ctx context.Context, a audit.Actor, id int64) (Job, error) {
	src, err := r.store.EPGSourceByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Job{}, fmt.Errorf("refresh epg source %d: %w", id, input.NotFound("id", "no such EPG source"))
	}
	if err != nil {
		return Job{}, fmt.Errorf("refresh epg source %d: %w", id, err)
	}
	j := newJob(Request{Kind: KindXMLTV, URL: src.URL, Options: JobOptions{SourceID: id}})
	j.source = &src
	return r.enqueue(ctx, a, j, redact(src.URL))
}

func (r *Runner) enqueue(ctx context.Context, a audit.Actor, j *job, origin string) (Job, error) {
	opts, _ := json.Marshal(j.req.Options)
	row := store.ImportJob{Kind: j.req.Kind, Origin: origin, Options: opts, Actor: a.Name, InstanceID: r.opts.InstanceID,
		BytesTotal: j.progress().BytesTotal}
	if a.AdminID != 0 {
		row.AdminID = &a.AdminID
	}
	err := r.store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if row, err = tx.CreateImportJob(ctx, row); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "import.start", TargetType: "import_job",
			TargetID: fmt.Sprint(row.ID), Extra: map[string]any{"kind": row.Kind, "origin": originHost(origin),
				"bouquet": j.req.Options.Bouquet, "source_id": j.req.Options.SourceID}})
	})
	if err != nil {
		j.discard()
		return Job{}, fmt.Errorf("start import: %w", err)
	}
	j.id = row.ID
	r.mu.Lock()
	r.inflight[j.id] = j
	r.mu.Unlock()
	select {
	case r.queue <- j:
	default:
		r.mu.Lock()
		delete(r.inflight, j.id)
		r.mu.Unlock()
		j.discard()
		_ = r.store.FinishImportJob(context.WithoutCancel(ctx), j.id, 0, nil, "refused: too many imports queued")
		return Job{}, fmt.Errorf("start import: %w", ErrBusy)
	}
	return jobOf(row), nil
}

// redact is a URL as a job shows it: without credentials, query or fragment (provider URLs
// carry usernames, passwords and tokens there).
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "url"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// originHost is what the audit log keeps of an origin: the host of a URL (its path may hold
// credentials, XC-style), or the upload's name.
func originHost(origin string) string {
	if u, err := url.Parse(origin); err == nil && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	return origin
}

// job is a queued or running import of this instance.
type job struct {
	id     int64
	req    Request
	source *store.EPGSource // a refresh's source
	file   string           // the spooled upload, removed when the job ends
	size   int64
	read   atomic.Int64
	total  atomic.Int64 // the input's size; -1 while unknown
}

func newJob(req Request) *job {
	j := &job{req: req}
	j.total.Store(-1)
	return j
}

func (j *job) progress() store.ImportProgress {
	p := store.ImportProgress{ID: j.id, BytesRead: j.read.Load()}
	if t := j.total.Load(); t >= 0 {
		p.BytesTotal = &t
	}
	return p
}

// discard removes the job's spooled upload.
func (j *job) discard() {
	if j.file != "" {
		_ = os.Remove(j.file)
		j.file = ""
	}
}

// spool copies the upload into a temporary file, refusing more than MaxUpload bytes.
func (r *Runner) spool(j *job) error {
	f, err := os.CreateTemp(r.opts.SpoolDir, "xtreamd-import-*")
	if err != nil {
		return fmt.Errorf("spool upload: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(j.req.Upload, r.opts.MaxUpload+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	j.file, j.size = f.Name(), n
	switch {
	case err != nil:
		j.discard()
		return fmt.Errorf("spool upload: %w", err)
	case n > r.opts.MaxUpload:
		j.discard()
		return ErrTooLarge
	case n == 0:
		j.discard()
		return input.Invalid("file", "the upload is empty")
	}
	return nil
}

// meter counts what the importer reads, and refuses more than max.
type meter struct {
	r    io.Reader
	n    *atomic.Int64
	max  int64
	seen int64
}

func (m *meter) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.seen += int64(n)
	m.n.Store(m.seen)
	if m.seen > m.max {
		return n, ErrTooLarge
	}
	return n, err
}

// execute runs the job's importer and summarises what it did.
func (r *Runner) execute(ctx context.Context, j *job) (Summary, error) {
	wrap := func(in io.Reader) io.Reader { return &meter{r: in, n: &j.read, max: r.opts.MaxFetch} }
	if j.source != nil {
		sum, err := r.refresher.RefreshSourceVia(ctx, *j.source, wrap)
		return xmltvSummary(sum), err
	}
	var body io.ReadCloser
	var err error
	if j.file != "" {
		body, err = os.Open(j.file)
	} else {
		var size int64
		body, size, err = epg.OpenURL(ctx, r.opts.Client, j.req.URL)
		j.total.Store(size)
	}
	if err != nil {
		return Summary{}, fmt.Errorf("open: %w", err)
	}
	defer body.Close()
	in := wrap(body)
	if j.req.Kind == KindXMLTV {
		sum, err := epg.Import(ctx, r.store, in, nil) // the guide decoder unpacks gzip itself
		return xmltvSummary(sum), err
	}
	plain, err := gunzip(in, r.opts.MaxFetch)
	if err != nil {
		return Summary{}, err
	}
	sum, err := catalog.ImportM3U(ctx, r.store, plain, catalog.M3UOptions{Bouquet: j.req.Options.Bouquet,
		Kind: j.req.Options.StreamKind})
	return m3uSummary(sum), err
}

// gunzip unpacks a gzip-compressed playlist (uploads are often .m3u.gz), up to max bytes.
func gunzip(r io.Reader, max int64) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	z, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	var unpacked atomic.Int64
	return &meter{r: z, n: &unpacked, max: max}, nil
}

func m3uSummary(s catalog.M3USummary) Summary {
	out := Summary{Added: int64(s.Added), Updated: int64(s.Updated), Unchanged: int64(s.Unchanged),
		Skipped: int64(len(s.Skipped)), Skips: []Skip{}, Details: map[string]int64{
			"entries": int64(s.Entries), "categories_added": int64(s.CategoriesAdded), "bouquet_added": int64(s.BouquetAdded),
			"bouquet_created": b2i(s.BouquetCreated)}}
	for _, k := range s.Skipped[:min(len(s.Skipped), maxSkips)] {
		out.Skips = append(out.Skips, Skip{Line: k.Line, Reason: k.Reason, Count: 1})
	}
	return out
}

func xmltvSummary(s epg.ImportSummary) Summary {
	out := Summary{Added: s.Added, Updated: s.Updated, Unchanged: s.Unchanged, Skips: []Skip{}, Details: map[string]int64{
		"channels": int64(s.Channels), "channels_added": int64(s.ChannelsAdded), "channels_updated": int64(s.ChannelsUpdated),
		"channels_unchanged": int64(s.ChannelsUnchanged), "channels_implied": int64(s.ChannelsImplied),
		"programmes": int64(s.Programmes), "removed": s.Removed, "duplicates": s.Duplicates}}
	for reason, n := range s.Skipped {
		out.Skipped += int64(n)
		out.Skips = append(out.Skips, Skip{Reason: reason, Count: int64(n)})
	}
	sort.Slice(out.Skips, func(i, j int) bool { return out.Skips[i].Reason < out.Skips[j].Reason })
	return out
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
