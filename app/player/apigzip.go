package player

import (
	"bytes"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/catalog"
)

// Large list answers go gzip-encoded to a client whose Accept-Encoding allows it: the streams
// of a big line run to megabytes of JSON, and apps fetch their lists at every start. Each
// compressed answer is kept with the catalog snapshot it was built from, per entitlement, so a
// list costs one compression per snapshot however many lines of the same bouquets ask for it;
// a reconnect storm of apps re-reading their lists pays none after the first.
const (
	minGzipAnswer = 16 << 10 // smaller answers go as they are: logins, EPG, short lists

	// What one snapshot may keep. Past either bound, answers not yet kept go as they are
	// rather than being compressed on every request.
	maxGzipAnswers     = 4096
	maxGzipAnswerBytes = 64 << 20
)

// gzipKey names one list answer within a snapshot: the line's bouquets, in its order (what its
// entitlement is made of), and the request's parameters that shape the answer. The bouquets
// are a value, not the entitlement's pointer: past the snapshot's entitlement cache an
// entitlement is built per request, and keeping those alive here would hold their memory.
type gzipKey struct {
	bouquets        string
	action          string
	category, id    int64
	offset, perPage int
}

// gzipAnswers are one snapshot's compressed answers. An entry's body is nil while the request
// that first asked compresses it: the others send theirs as it is meanwhile, so a storm of
// first asks costs one compression, not one each.
type gzipAnswers struct {
	mu      sync.Mutex
	answers map[gzipKey]*atomicAnswer
	bytes   int
}

// atomicAnswer is one kept answer, nil until compressed.
type atomicAnswer = atomic.Pointer[[]byte]

var gzipAnswersView = catalog.NewView(func(*catalog.Snapshot) *gzipAnswers {
	return &gzipAnswers{answers: map[gzipKey]*atomicAnswer{}}
})

// kept returns the compressed answer k names if it is kept already.
func (g *gzipAnswers) kept(k gzipKey) []byte {
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

// get returns the compressed form of plain, the answer k names, compressing it on the first
// ask; nil when it is not (yet) to be had.
func (g *gzipAnswers) get(k gzipKey, plain []byte) []byte {
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
	p := new(atomicAnswer)
	g.answers[k] = p
	g.mu.Unlock()

	var buf bytes.Buffer
	buf.Grow(len(plain) / 4)
	zw := newGzipWriter(&buf)
	_, _ = zw.Write(plain) // a bytes.Buffer takes everything
	zw.done()
	z := buf.Bytes()
	p.Store(&z)
	g.mu.Lock()
	g.bytes += len(z)
	g.mu.Unlock()
	return z
}

// listGzip is how one list request may go gzip-encoded: its key and its snapshot's answers;
// the zero value (the client does not accept gzip) never does.
type listGzip struct {
	answers *gzipAnswers
	key     gzipKey
}

// listGzipOf is listGzip for a list request for ent, the entitlement of bouquetIDs.
func listGzipOf(c *fiber.Ctx, ent *catalog.Entitlement, bouquetIDs []int64, req *request) listGzip {
	if !edge.AcceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
		return listGzip{}
	}
	id := req.vodID
	if req.action == actSeriesInfo {
		id = req.seriesID
	}
	return listGzip{
		answers: gzipAnswersView.Of(ent.Snapshot()),
		key: gzipKey{bouquets: bouquetsKey(bouquetIDs), action: req.action, category: req.category, id: id,
			offset: req.offset, perPage: req.perPage},
	}
}

// bouquetsKey is bouquetIDs as a string ("3,1,7").
func bouquetsKey(bouquetIDs []int64) string {
	b := make([]byte, 0, 8*len(bouquetIDs))
	for i, id := range bouquetIDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(b)
}

// sendKept sends the answer compressed already, without building it; false when there is none.
func (lg listGzip) sendKept(c *fiber.Ctx) bool {
	if lg.answers == nil {
		return false
	}
	z := lg.answers.kept(lg.key)
	if z == nil {
		return false
	}
	sendGzip(c, z)
	return true
}

// send sends the list answer b: gzip-encoded when it is large and the client accepts that.
func (lg listGzip) send(c *fiber.Ctx, b []byte) error {
	if len(b) < minGzipAnswer {
		return sendCopy(c, b)
	}
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if lg.answers != nil {
		if z := lg.answers.get(lg.key, b); z != nil {
			sendGzip(c, z)
			return nil
		}
	}
	return sendCopy(c, b)
}

func sendGzip(c *fiber.Ctx, z []byte) {
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderContentEncoding, "gzip")
	c.Response().SetBodyRaw(z) // kept by the snapshot and never changed: no copy
}
