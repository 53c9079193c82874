package epg

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Documents keeps whole XMLTV documents, gzip-compressed, by a key the caller gives (what
// selects the channels, their names and the window) and the EPG version they were exported at.
// A guide download is the heaviest read a player makes (a walk over the programmes table and
// megabytes of markup, ~140 ms for a 9 MB guide), and boxes fetch it all at once: every
// morning, after an operator's restart, after a provider update. Every line of a bouquet set
// gets the same document, so the first download exports it and the others copy its bytes.
//
// Why compressed: a guide is repeated markup, ten times smaller in gzip, which is also how
// most players ask for it (XUI serves pre-built .gz files); a client that wants the XML as it
// is gets it decompressed on the way out, at a fraction of an export's cost.
//
// An EPG import bumps the version (a statement trigger, every instance sees it in the
// database), so a document is never served after the guide changed: each Get reads the version
// (one indexed row) and a new version is a new key. Documents nobody asks for any more age out
// of the byte budget, least recently used first.
type Documents struct {
	guide   *Guide
	log     *slog.Logger
	budget  int64           // bytes of compressed documents kept
	maxDoc  int64           // the largest document kept: budget / 4
	base    context.Context // exports run under it, not under the first asker's request
	timeout time.Duration   // bounds one export

	mu    sync.Mutex
	docs  map[docKey]*list.Element // of *docEntry
	lru   list.List                // front: most recently used
	bytes int64
	kept  int       // entries holding a document
	ends  [3]uint64 // exports ended, by exportKept, exportTooLarge, exportFailed
}

// How an export ended (DocumentsStats).
const (
	exportKept = iota
	exportTooLarge
	exportFailed
)

// Document is a kept guide: Gzip is the XMLTV document gzip-compressed, Size its length as XML.
// Its bytes are shared and must not be changed.
type Document struct {
	Gzip []byte
	Size int64
}

type docKey struct {
	key     string
	version int64
}

type docEntry struct {
	key   docKey
	ready chan struct{} // closed when the export ended
	doc   *Document     // after ready: nil when the document is not kept (too large)
}

// DocumentsOptions tune Documents.
type DocumentsOptions struct {
	// Budget is the compressed bytes kept in all; the largest document kept is a quarter of it.
	// Zero or less keeps nothing (Get always answers nil).
	Budget int64
	// Context ends the exports running (shutdown); nil is context.Background().
	Context context.Context
	// Timeout bounds one export; zero is 10 minutes.
	Timeout time.Duration
	Log     *slog.Logger
}

// maxDocEntries bounds the entries, documents and markers of documents too large to keep.
const maxDocEntries = 1024

// NewDocuments returns an empty store of documents exported from g.
func NewDocuments(g *Guide, opts DocumentsOptions) *Documents {
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Documents{guide: g, log: opts.Log, budget: opts.Budget, maxDoc: opts.Budget / 4,
		base: opts.Context, timeout: opts.Timeout, docs: map[docKey]*list.Element{}}
}

// errTooLarge stops an export that outgrew the largest document kept.
var errTooLarge = errors.New("guide document larger than the largest kept")

// Get returns the document key of the current EPG version: kept already, or exported now
// with the options opts returns (which key must determine; called only for an export, on
// another goroutine) while every concurrent Get of it waits for the one export. It returns nil, and no error, when the caller should export on its own: nothing is
// kept (no budget), the document is larger than the largest kept, or the export failed (the
// next Get tries again). An error is the EPG version's read failing, or ctx ending while the
// export runs.
func (d *Documents) Get(ctx context.Context, key string, opts func() ExportOptions) (*Document, error) {
	if d.budget <= 0 {
		return nil, nil
	}
	version, err := d.guide.store.EPGVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("guide document: %w", err)
	}
	k := docKey{key: key, version: version}
	d.mu.Lock()
	el, ok := d.docs[k]
	if ok {
		d.lru.MoveToFront(el)
	} else {
		el = d.lru.PushFront(&docEntry{key: k, ready: make(chan struct{})})
		d.docs[k] = el
		d.evictLocked()
	}
	e := el.Value.(*docEntry)
	d.mu.Unlock()
	if !ok {
		go d.export(e, opts)
	}
	select {
	case <-e.ready:
		return e.doc, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("guide document: %w", ctx.Err())
	}
}

// export builds e's document and makes it ready: kept if it fits, else a marker that it does
// not (Get answers nil until the key changes); an export that failed is forgotten.
func (d *Documents) export(e *docEntry, opts func() ExportOptions) {
	ctx, cancel := context.WithTimeout(d.base, d.timeout)
	defer cancel()
	start := time.Now()
	doc, err := d.buildSafely(ctx, opts)
	d.mu.Lock()
	switch {
	case err == nil:
		e.doc = doc
		d.bytes += int64(len(doc.Gzip))
		d.kept++
		d.ends[exportKept]++
		d.evictLocked()
	case errors.Is(err, errTooLarge):
		// Kept as a marker: the next asks stream their own at once instead of exporting twice.
		d.ends[exportTooLarge]++
	default:
		d.ends[exportFailed]++
		if el, ok := d.docs[e.key]; ok && el.Value == e {
			d.lru.Remove(el)
			delete(d.docs, e.key)
		}
	}
	d.mu.Unlock()
	close(e.ready)
	switch {
	case err == nil:
		d.log.Debug("guide document exported", "xml_bytes", doc.Size, "gzip_bytes", len(doc.Gzip),
			"ms", time.Since(start).Milliseconds())
	case errors.Is(err, errTooLarge):
		d.log.Info("guide document too large to keep; each download exports its own",
			"max_gzip_bytes", d.maxDoc)
	default:
		d.log.Warn("guide document export failed", "err", err)
	}
}

// buildSafely is build, a panic in it (a bug; it runs on a goroutine of its own, where a panic
// would end the process) being an export that failed.
func (d *Documents) buildSafely(ctx context.Context, opts func() ExportOptions) (doc *Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("guide document: panic: %v", r)
		}
	}()
	return d.build(ctx, opts())
}

// build exports opts gzip-compressed into memory, stopping past the largest document kept.
func (d *Documents) build(ctx context.Context, opts ExportOptions) (*Document, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&capWriter{w: &buf, left: d.maxDoc}, documentLevel)
	if err != nil {
		return nil, err
	}
	size := &countingWriter{w: zw}
	if err := d.guide.Export(ctx, size, opts); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return &Document{Gzip: bytes.Clone(buf.Bytes()), Size: size.n}, nil
}

// documentLevel: a kept document is compressed once and sent many times, so it takes gzip's
// default level rather than the BestSpeed of a download compressed as it goes out (app/edge).
// On 9.4 MB of varied programme text, level 6 was 14 % smaller than level 1 (2.43 against
// 2.81 MB) at 2.8 times the time (311 against 110 ms), once per document.
const documentLevel = 6

// evictLocked drops the least recently used documents past the budget and entries past
// maxDocEntries; exports still running are never dropped (their waiters hold them anyway).
func (d *Documents) evictLocked() {
	for el := d.lru.Back(); el != nil && (d.bytes > d.budget || d.lru.Len() > maxDocEntries); {
		prev := el.Prev()
		e := el.Value.(*docEntry)
		select {
		case <-e.ready:
			if e.doc != nil {
				d.bytes -= int64(len(e.doc.Gzip))
				d.kept--
			}
			d.lru.Remove(el)
			delete(d.docs, e.key)
		default:
		}
		el = prev
	}
}

// DocumentsStats is what Documents holds and has done.
type DocumentsStats struct {
	Kept  int   // documents kept
	Bytes int64 // their compressed bytes
	// Exports ended: with a document kept, with one too large to keep, failed.
	Exported, TooLarge, Failed uint64
}

// Stats reports the documents kept and the exports ended so far.
func (d *Documents) Stats() DocumentsStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return DocumentsStats{Kept: d.kept, Bytes: d.bytes,
		Exported: d.ends[exportKept], TooLarge: d.ends[exportTooLarge], Failed: d.ends[exportFailed]}
}

// capWriter fails with errTooLarge once more than left bytes were written.
type capWriter struct {
	w    io.Writer
	left int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		return 0, errTooLarge
	}
	c.left -= int64(len(p))
	return c.w.Write(p)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
