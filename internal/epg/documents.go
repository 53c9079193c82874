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
	"slices"
	"sync"
	"time"
)

// Documents keeps whole answers built from the guide, gzip-compressed, by a key the caller
// gives (everything that shapes the answer) and the EPG version they were built at. The guide
// downloads are the heaviest reads players make: xmltv.php (a walk over the programmes table
// and megabytes of markup, ~140 ms for a 9 MB guide) and the MAG portal's itv/get_epg_info
// (what is on for every channel, 15 MB for 10,000 channels). Boxes fetch them all at once:
// every morning, after an operator's restart, after a provider update. Every line of a bouquet
// set gets the same answer, so the first ask builds it and the others copy its bytes.
//
// Why compressed: a guide is repeated text, several times smaller in gzip, which is also how
// most players ask for it (XUI serves pre-built .gz files); a client that wants it as it is
// gets it decompressed on the way out, at a fraction of a build's cost.
//
// A write to the guide bumps the EPG version (a statement trigger, every instance sees it in
// the database), so an answer is never served after the guide changed: each Get reads the
// version (one indexed row) and a new version is a new key. Answers nobody asks for any more
// age out of the byte budget, least recently used first.
type Documents struct {
	store   versionReader
	log     *slog.Logger
	budget  int64           // bytes of compressed documents kept
	maxDoc  int64           // the largest document kept: budget / 4
	base    context.Context // builds run under it, not under the first asker's request
	timeout time.Duration   // bounds one build

	mu     sync.Mutex
	docs   map[docKey]*list.Element   // of *docEntry
	byName map[string][]*list.Element // the entries of each DocumentKey.Name
	lru    list.List                  // front: most recently used
	bytes  int64
	kept   int       // entries holding a document
	ends   [3]uint64 // builds ended, by exportKept, exportTooLarge, exportFailed
}

// versionReader reads the EPG version (store.Store).
type versionReader interface {
	EPGVersion(ctx context.Context) (int64, error)
}

// How a build ended (DocumentsStats).
const (
	exportKept = iota
	exportTooLarge
	exportFailed
)

// Document is a kept answer: Gzip is its bytes gzip-compressed, Size their length as they
// are. Its bytes are shared and must not be changed.
type Document struct {
	Gzip []byte
	Size int64
}

// Build writes an answer to w; ctx bounds it.
type Build func(ctx context.Context, w io.Writer) error

// ExportBuild is the Build of an XMLTV export of g with the options opts returns (called by
// the build only: a Get of a kept document never needs them).
func (g *Guide) ExportBuild(opts func() ExportOptions) Build {
	return func(ctx context.Context, w io.Writer) error { return g.Export(ctx, w, opts()) }
}

// DocumentKey names an answer: Name is everything that shapes it but time (the surface, the
// catalog version, the bouquets, the zone, the window's length), Epoch the time window it is
// built for (the hour, the minute). A document kept for a later epoch or EPG version replaces
// the name's earlier ones at once, rather than leaving them to age out of the budget.
type DocumentKey struct {
	Name  string
	Epoch int64
}

type docKey struct {
	DocumentKey
	version int64
}

// supersedes reports whether a document of k makes one of o dead: the same name, and neither
// an earlier EPG version nor an earlier epoch than o's.
func (k docKey) supersedes(o docKey) bool {
	return k.Name == o.Name && k != o && k.version >= o.version && k.Epoch >= o.Epoch
}

type docEntry struct {
	key   docKey
	ready chan struct{} // closed when the build ended
	doc   *Document     // after ready: nil when the document is not kept (too large)
}

// DocumentsOptions tune Documents.
type DocumentsOptions struct {
	// Budget is the compressed bytes kept in all; the largest document kept is a quarter of it.
	// Zero or less keeps nothing (Get always answers nil).
	Budget int64
	// Context ends the builds running (shutdown); nil is context.Background().
	Context context.Context
	// Timeout bounds one build; zero is 10 minutes.
	Timeout time.Duration
	Log     *slog.Logger
}

// maxDocEntries bounds the entries, documents and markers of documents too large to keep.
const maxDocEntries = 1024

// NewDocuments returns an empty store of documents of g's guide.
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
	return &Documents{store: g.store, log: opts.Log, budget: opts.Budget, maxDoc: opts.Budget / 4,
		base: opts.Context, timeout: opts.Timeout, docs: map[docKey]*list.Element{}, byName: map[string][]*list.Element{}}
}

// errTooLarge stops a build that outgrew the largest document kept.
var errTooLarge = errors.New("guide document larger than the largest kept")

// Get returns the document key of the current EPG version: kept already, or built now by
// build (which key must determine; it runs on a goroutine of its own) while every concurrent
// Get of it waits for the one build. It returns nil, and no error, when the caller should
// build its answer on its own: nothing is kept (no budget), the document is larger than the
// largest kept, or the build failed (the next Get tries again). An error is the EPG version's
// read failing, or ctx ending while the build runs.
func (d *Documents) Get(ctx context.Context, key DocumentKey, build Build) (*Document, error) {
	if d.budget <= 0 {
		return nil, nil
	}
	version, err := d.store.EPGVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("guide document: %w", err)
	}
	k := docKey{DocumentKey: key, version: version}
	d.mu.Lock()
	el, ok := d.docs[k]
	if ok {
		d.lru.MoveToFront(el)
	} else {
		el = d.lru.PushFront(&docEntry{key: k, ready: make(chan struct{})})
		d.docs[k] = el
		d.byName[k.Name] = append(d.byName[k.Name], el)
		d.evictLocked()
	}
	e := el.Value.(*docEntry)
	d.mu.Unlock()
	if !ok {
		go d.export(e, build)
	}
	select {
	case <-e.ready:
		return e.doc, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("guide document: %w", ctx.Err())
	}
}

// export builds e's document and makes it ready: kept if it fits, else a marker that it does
// not (Get answers nil until the key changes); a build that failed is forgotten.
func (d *Documents) export(e *docEntry, build Build) {
	ctx, cancel := context.WithTimeout(d.base, d.timeout)
	defer cancel()
	start := time.Now()
	doc, err := d.buildSafely(ctx, build)
	key := e.key.Name
	d.mu.Lock()
	switch {
	case err == nil:
		e.doc = doc
		d.bytes += int64(len(doc.Gzip))
		d.kept++
		d.ends[exportKept]++
		for _, old := range slices.Clone(d.byName[e.key.Name]) {
			if o := old.Value.(*docEntry); e.key.supersedes(o.key) && isReady(o) {
				d.removeLocked(old)
			}
		}
		d.evictLocked()
	case errors.Is(err, errTooLarge):
		// Kept as a marker: the next asks build their own at once instead of waiting for a
		// build that will not be kept either.
		d.ends[exportTooLarge]++
	default:
		d.ends[exportFailed]++
		if el, ok := d.docs[e.key]; ok && el.Value == e {
			d.removeLocked(el)
		}
	}
	d.mu.Unlock()
	close(e.ready)
	switch {
	case err == nil:
		d.log.Debug("guide document built", "key", key, "bytes", doc.Size, "gzip_bytes", len(doc.Gzip),
			"ms", time.Since(start).Milliseconds())
	case errors.Is(err, errTooLarge):
		d.log.Info("guide document too large to keep; each ask builds its own", "key", key,
			"max_gzip_bytes", d.maxDoc)
	default:
		d.log.Warn("guide document build failed", "key", key, "err", err)
	}
}

// buildSafely is build, a panic in it (a bug; it runs on a goroutine of its own, where a panic
// would end the process) being a build that failed.
func (d *Documents) buildSafely(ctx context.Context, build Build) (doc *Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("guide document: panic: %v", r)
		}
	}()
	return d.build(ctx, build)
}

// build runs build into memory, gzip-compressed, stopping past the largest document kept.
func (d *Documents) build(ctx context.Context, build Build) (*Document, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&capWriter{w: &buf, left: d.maxDoc}, documentLevel)
	if err != nil {
		return nil, err
	}
	size := &countingWriter{w: zw}
	if err := build(ctx, size); err != nil {
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
// maxDocEntries; builds still running are never dropped (their waiters hold them anyway).
func (d *Documents) evictLocked() {
	for el := d.lru.Back(); el != nil && (d.bytes > d.budget || d.lru.Len() > maxDocEntries); {
		prev := el.Prev()
		if isReady(el.Value.(*docEntry)) {
			d.removeLocked(el)
		}
		el = prev
	}
}

// isReady reports whether e's build ended.
func isReady(e *docEntry) bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// removeLocked drops the entry el and its document.
func (d *Documents) removeLocked(el *list.Element) {
	e := el.Value.(*docEntry)
	if e.doc != nil {
		d.bytes -= int64(len(e.doc.Gzip))
		d.kept--
	}
	d.lru.Remove(el)
	delete(d.docs, e.key)
	same := slices.DeleteFunc(d.byName[e.key.Name], func(x *list.Element) bool { return x == el })
	if len(same) == 0 {
		delete(d.byName, e.key.Name)
	} else {
		d.byName[e.key.Name] = same
	}
}

// DocumentsStats is what Documents holds and has done.
type DocumentsStats struct {
	Kept  int   // documents kept
	Bytes int64 // their compressed bytes
	// Builds ended: with a document kept, with one too large to keep, failed.
	Exported, TooLarge, Failed uint64
}

// Stats reports the documents kept and the builds ended so far.
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
