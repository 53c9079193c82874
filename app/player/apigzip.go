package player

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/catalog"
)

// Large list answers go gzip-encoded to a client whose Accept-Encoding allows it: the streams
// of a big line run to megabytes of JSON, and apps fetch their lists at every start. Each is
// kept with its catalog snapshot per bouquet set (edge.GzipCache), so a list costs one
// compression per snapshot however many lines of the same bouquets ask for it, and a kept
// answer is sent without building the list.
var listAnswers = edge.NewGzipCache[gzipKey]()

// gzipKey names one list answer within a snapshot: the line's bouquets, in its order (what its
// entitlement is made of), and the request's parameters that shape the answer. The bouquets
// are a value, not the entitlement's pointer: past the snapshot's entitlement cache an
// entitlement is built per request, and keeping those alive would hold their memory.
type gzipKey struct {
	bouquets        string
	action          string
	category, id    int64
	offset, perPage int
}

// listGzip is how one list request may go gzip-encoded; the zero value (the client does not
// accept gzip) never does.
type listGzip struct {
	snap *catalog.Snapshot
	key  gzipKey
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
		snap: ent.Snapshot(),
		key: gzipKey{bouquets: edge.IDsKey(bouquetIDs), action: req.action, category: req.category, id: id,
			offset: req.offset, perPage: req.perPage},
	}
}

// sendKept sends the answer compressed already, without building it; false when there is none.
func (lg listGzip) sendKept(c *fiber.Ctx) bool {
	if lg.snap == nil {
		return false
	}
	z := listAnswers.Kept(lg.snap, lg.key)
	if z == nil {
		return false
	}
	edge.SendGzip(c, z)
	return true
}

// send sends the list answer b: gzip-encoded when it is large and the client accepts that.
func (lg listGzip) send(c *fiber.Ctx, b []byte) error {
	if len(b) < edge.MinGzipAnswer {
		return sendCopy(c, b)
	}
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if lg.snap != nil {
		if z := listAnswers.Get(lg.snap, lg.key, b); z != nil {
			edge.SendGzip(c, z)
			return nil
		}
	}
	return sendCopy(c, b)
}
