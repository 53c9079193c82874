package edge

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/catalog"
)

// MinGzipAnswer is the size from which a surface sends an answer gzip-encoded to a client that
// accepts it; smaller ones (a login, a page of a list) go as they are and never vary.
const MinGzipAnswer = 16 << 10

// GzipWriter compresses a download as it goes out, with a compressor from a pool (each holds
// some hundreds of KB of state).
type GzipWriter struct{ *gzip.Writer }

// NewGzipWriter returns a pooled compressor writing to w.
func NewGzipWriter(w io.Writer) GzipWriter {
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(w)
	return GzipWriter{zw}
}

// Done ends the stream (its trailer; after a write error that only fails again) and returns
// the compressor to the pool.
func (zw GzipWriter) Done() {
	_ = zw.Close()
	gzipWriters.Put(zw.Writer)
}

// gzipWriters holds compressors at BestSpeed, because every download pays the compression
// (XUI compresses a pre-built guide once): on a 4.9 MB guide of varied text, level 1 made it
// 3.2 times smaller at 80 MB/s of one core, the default level 3.7 times at 15 MB/s.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed) // a valid level: no error
	return zw
}}

// Gzip compresses b whole.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b) / 4)
	zw := NewGzipWriter(&buf)
	_, _ = zw.Write(b) // a bytes.Buffer takes everything
	zw.Done()
	return buf.Bytes()
}

// SendGzip sends z, a gzip-encoded answer, as the response body; z is not copied and must not
// change afterwards.
func SendGzip(c *fiber.Ctx, z []byte) {
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderContentEncoding, "gzip")
	c.Response().SetBodyRaw(z)
}

// What a GzipCache keeps per snapshot. Past either bound, answers not yet kept go as they are
// rather than being compressed on every request.
const (
	maxGzipAnswers     = 4096
	maxGzipAnswerBytes = 64 << 20
)

// GzipCache keeps gzip-encoded answers with the catalog snapshot they were built from, by a key
// the surface chooses (everything that shapes the answer, as values: a key that points at
// something would keep it alive): an answer costs one compression per snapshot however many
// clients ask for it, and a snapshot's answers go with it when the catalog changes.
type GzipCache[K comparable] struct {
	view *catalog.View[*gzipAnswers[K]]
}

// NewGzipCache returns an empty cache.
func NewGzipCache[K comparable]() *GzipCache[K] {
	return &GzipCache[K]{view: catalog.NewView(func(*catalog.Snapshot) *gzipAnswers[K] { return newGzipAnswers[K]() })}
}

// Kept returns the compressed answer k of snap if it is kept already (nil otherwise).
func (gc *GzipCache[K]) Kept(snap *catalog.Snapshot, k K) []byte {
	return gc.view.Of(snap).kept(k)
}

// Get returns the compressed form of plain, the answer k of snap, compressing and keeping it
// on the first ask; nil when it is not (yet) to be had: while the first asker compresses it
// (the others send theirs as it is meanwhile, so a burst of first asks costs one
// compression), and past the snapshot's bounds.
func (gc *GzipCache[K]) Get(snap *catalog.Snapshot, k K, plain []byte) []byte {
	return gc.view.Of(snap).get(k, plain)
}

// IDsKey is ids as a string ("3,1,7"), for a GzipCache key.
func IDsKey(ids []int64) string {
	b := make([]byte, 0, 8*len(ids))
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}

// gzipAnswers are one snapshot's compressed answers; an entry is nil until compressed.
type gzipAnswers[K comparable] struct {
	mu      sync.Mutex
	answers map[K]*atomic.Pointer[[]byte]
	bytes   int
}

func newGzipAnswers[K comparable]() *gzipAnswers[K] {
	return &gzipAnswers[K]{answers: map[K]*atomic.Pointer[[]byte]{}}
}

func (g *gzipAnswers[K]) kept(k K) []byte {
	g.mu.Lock()
	p := g.answers[k]
	g.mu.Unlock()
	if p == nil {
		return nil
	}
	if z := p.Load(); z != nil {
		return *z
	}
	return nil
}

func (g *gzipAnswers[K]) get(k K, plain []byte) []byte {
	g.mu.Lock()
	if p, ok := g.answers[k]; ok {
		g.mu.Unlock()
		if z := p.Load(); z != nil {
			return *z
		}
		return nil
	}
	if len(g.answers) >= maxGzipAnswers || g.bytes >= maxGzipAnswerBytes {
		g.mu.Unlock()
		return nil
	}
	p := new(atomic.Pointer[[]byte])
	g.answers[k] = p
	g.mu.Unlock()
	z := Gzip(plain)
	p.Store(&z)
	g.mu.Lock()
	g.bytes += len(z)
	g.mu.Unlock()
	return z
}
