package admin

import (
	"bytes"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/importer"
)

// ImportJob is an import running in the background (or its record once done): any instance
// answers it, and it outlives a restart of the one that ran it.
type ImportJob struct {
	ID         int64          `json:"id"`
	Kind       string         `json:"kind" api:"enum=m3u|xmltv"`
	State      string         `json:"state" api:"enum=queued|running|done|failed"`
	Origin     string         `json:"origin" doc:"The URL without credentials or query, or \"upload: <file name>\"."`
	Options    ImportOptions  `json:"options"`
	Actor      string         `json:"actor" doc:"Who started it."`
	BytesRead  int64          `json:"bytes_read" doc:"How much of the input has been read (progress)."`
	BytesTotal *int64         `json:"bytes_total" doc:"The input's size; null while unknown."`
	Summary    *ImportSummary `json:"summary" doc:"What the import did, once done."`
	Error      string         `json:"error" doc:"Why it failed."`
	CreatedAt  time.Time      `json:"created_at"`
	StartedAt  *time.Time     `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at"`
}

// ImportOptions are an import's options.
type ImportOptions struct {
	Bouquet    string `json:"bouquet,omitempty" doc:"M3U: the bouquet the entries are appended to."`
	StreamKind string `json:"stream_kind,omitempty" doc:"M3U: live, radio or movie."`
	SourceID   int64  `json:"source_id,omitempty" doc:"XMLTV: the EPG source refreshed."`
}

// ImportSummary says what an import did: playlist entries (M3U) or programmes (XMLTV) added,
// updated, left unchanged (nothing written for them), and skipped with why.
type ImportSummary struct {
	Added     int64            `json:"added"`
	Updated   int64            `json:"updated"`
	Unchanged int64            `json:"unchanged"`
	Skipped   int64            `json:"skipped"`
	Skips     []ImportSkip     `json:"skips" doc:"The reasons (at most 500 listed)."`
	Details   map[string]int64 `json:"details" doc:"M3U: entries, categories_added, bouquet_added, bouquet_created; XMLTV: channels, channels_added, channels_updated, channels_unchanged, channels_implied, programmes, removed, duplicates."`
}

// ImportSkip is why entries were left out: one playlist entry (its line), or a number of
// programmes.
type ImportSkip struct {
	Line   int    `json:"line,omitempty" doc:"The playlist line (M3U)."`
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

func importJobOut(j importer.Job) ImportJob {
	out := ImportJob{ID: j.ID, Kind: j.Kind, State: j.State, Origin: j.Origin, Options: ImportOptions(j.Options),
		Actor: j.Actor, BytesRead: j.BytesRead, BytesTotal: j.BytesTotal, Error: j.Error, CreatedAt: j.CreatedAt,
		StartedAt: j.StartedAt, FinishedAt: j.FinishedAt}
	if s := j.Summary; s != nil {
		out.Summary = &ImportSummary{Added: s.Added, Updated: s.Updated, Unchanged: s.Unchanged, Skipped: s.Skipped,
			Skips: mapSlice(s.Skips, func(k importer.Skip) ImportSkip { return ImportSkip(k) }), Details: s.Details}
	}
	return out
}

type newImport struct {
	Kind       string `json:"kind" api:"required,enum=m3u|xmltv"`
	URL        string `json:"url" api:"required,minlen=1,maxlen=4096" doc:"The http(s) URL of the playlist or guide (gzip is fine)."`
	Bouquet    string `json:"bouquet" api:"maxlen=256" doc:"M3U (required): the bouquet the entries are appended to, created when missing."`
	StreamKind string `json:"stream_kind" api:"enum=live|radio|movie" doc:"M3U: what the entries are (default live)."`
}

type uploadParams struct {
	Kind       string `query:"kind" api:"required,enum=m3u|xmltv"`
	Bouquet    string `query:"bouquet" api:"maxlen=256" doc:"M3U (required): the bouquet the entries are appended to."`
	StreamKind string `query:"stream_kind" api:"enum=live|radio|movie" doc:"M3U: what the entries are (default live)."`
	FileName   string `query:"file_name" api:"maxlen=256" doc:"The file's name, shown in the job's origin."`
}

type importList struct {
	PageQuery
}

// uploadMaxBody is the largest upload: just under the server's request limit (1 MiB), so that
// the operation itself answers 413 (a compressed playlist or guide of this size unpacks to
// 10–20 MiB; anything larger is imported by URL).
const uploadMaxBody = 960 << 10

func (a *API) importOps() []Op {
	write := Perm{Scope: "imports", Write: true, Roles: adminsOnly}
	return []Op{
		{Method: fiber.MethodPost, Path: "/imports", ID: "startImport", Tag: "Imports", Summary: "Import a playlist or a guide from a URL",
			Doc: "Runs the same idempotent importer as `xtreamd import` in the background: entries already in the catalog " +
				"as given are left untouched (open streams keep playing). Follow it at GET /imports/{id}.",
			Perm: write, Status: fiber.StatusAccepted, Errors: []int{429}, Handler: Handle(a.startImport)},
		{Method: fiber.MethodPost, Path: "/imports/upload", ID: "uploadImport", Tag: "Imports", Summary: "Import an uploaded playlist or guide",
			Doc:  "The body is the file as it is (.m3u, .xml, or gzip-compressed), at most 960 KiB (413 beyond; import larger files by URL).",
			Perm: write, Status: fiber.StatusAccepted, Errors: []int{413, 429}, MaxBody: uploadMaxBody, Handler: Handle(a.uploadImport)},
		{Method: fiber.MethodGet, Path: "/imports", ID: "listImports", Tag: "Imports", Summary: "List imports",
			Doc: "Newest first.", Perm: readPerm("imports"), Handler: Handle(a.listImports)},
		{Method: fiber.MethodGet, Path: "/imports/{id}", ID: "getImport", Tag: "Imports", Summary: "Get an import's progress and summary",
			Perm: readPerm("imports"), Handler: Handle(a.getImport)},
	}
}

func (a *API) startImport(c *Call, _ NoParams, in newImport) (ImportJob, error) {
	j, err := a.d.Imports.Start(c.Context(), c.Principal.Actor, importer.Request{Kind: in.Kind, URL: in.URL,
		Options: importer.JobOptions{Bouquet: in.Bouquet, StreamKind: in.StreamKind}})
	return importJobOut(j), err
}

func (a *API) uploadImport(c *Call, p uploadParams, in Upload) (ImportJob, error) {
	name := p.FileName
	if name == "" {
		name = p.Kind
	}
	j, err := a.d.Imports.Start(c.Context(), c.Principal.Actor, importer.Request{Kind: p.Kind,
		Upload: bytes.NewReader(in.Data), UploadName: name,
		Options: importer.JobOptions{Bouquet: p.Bouquet, StreamKind: p.StreamKind}})
	return importJobOut(j), err
}

func (a *API) listImports(c *Call, q importList, _ NoBody) (Page[ImportJob], error) {
	before, bad := q.decodeCursor("-id", nil)
	if bad != nil {
		return Page[ImportJob]{}, bad
	}
	rows, err := a.d.Imports.Jobs(c.Context(), before, q.limit()+1)
	if err != nil {
		return Page[ImportJob]{}, err
	}
	return pageOf(mapSlice(rows, importJobOut), q.limit(), func(last ImportJob) *string {
		return encodeCursor("-id", nil, last.ID)
	}), nil
}

func (a *API) getImport(c *Call, p ByID, _ NoBody) (ImportJob, error) {
	j, err := a.d.Imports.Job(c.Context(), p.ID)
	return importJobOut(j), err
}
