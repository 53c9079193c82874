package epg

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// Guide answers the player surfaces' programme questions from PostgreSQL.
//
// Why the database and not an in-memory index per EPG version: BenchmarkNowNext measures a
// now/next lookup at ~130 µs over 168,000 programmes (one round trip on the (channel_id,
// stop_at) index, 2-core machine), against ~170 ns for a binary search in memory
// (BenchmarkNowNextInMemoryBaseline). Both are far below a request's budget, while a guide held in memory costs ~300 bytes per programme:
// a provider guide of 10,000 channels × 14 days is millions of programmes, gigabytes on every
// instance, and rebuilt on every refresh. Lists that need now/next for many channels at once
// (enigma2.php, the MAG portal) use NowNextMany: one round trip for the whole page.
type Guide struct {
	store *store.Store
	now   func() time.Time
}

// NewGuide returns a Guide; now is the clock ("on air now"), time.Now in production.
func NewGuide(st *store.Store, now func() time.Time) *Guide {
	if now == nil {
		now = time.Now
	}
	return &Guide{store: st, now: now}
}

// DefaultShortEPGLimit is get_short_epg's default limit.
const DefaultShortEPGLimit = 4

// NowNext returns the programme on air on channelID and the following ones, at most limit
// (DefaultShortEPGLimit when limit <= 0), by start: get_short_epg. An unknown channel or an
// empty epg_channel_id gives none.
func (g *Guide) NowNext(ctx context.Context, channelID string, limit int) ([]store.Programme, error) {
	if channelID == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = DefaultShortEPGLimit
	}
	return g.store.ProgrammesNowNext(ctx, channelID, g.now(), min(limit, 1000))
}

// NowNextMany is NowNext for many channels in one round trip, keyed by channel id.
func (g *Guide) NowNextMany(ctx context.Context, channelIDs []string, limit int) (map[string][]store.Programme, error) {
	if limit <= 0 {
		limit = DefaultShortEPGLimit
	}
	return g.store.ProgrammesNowNextMany(ctx, channelIDs, g.now(), min(limit, 1000))
}

// All returns every stored programme of a channel by start: get_simple_data_table.
func (g *Guide) All(ctx context.Context, channelID string) ([]store.Programme, error) {
	if channelID == "" {
		return nil, nil
	}
	return g.store.ProgrammesOfChannel(ctx, channelID)
}

// Between returns a channel's programmes overlapping [from, to): the MAG portal's views.
func (g *Guide) Between(ctx context.Context, channelID string, from, to time.Time) ([]store.Programme, error) {
	if channelID == "" {
		return nil, nil
	}
	return g.store.ProgrammesBetween(ctx, channelID, from, to)
}

// ExportOptions select what Export writes.
type ExportOptions struct {
	From, To      time.Time // programmes overlapping [From, To)
	GeneratorName string
	GeneratorURL  string
	// Channels are written as given (xmltv.php uses the panel's stream names and icons) and
	// restrict the programmes to their ids. Nil writes every EPG channel with its XMLTV name.
	Channels []Channel
}

// Export streams an XMLTV document to w: channels, then programmes by channel and start.
//
// The programmes come from the store in bounded pages (store.EachProgramme): w is written
// between page queries, with no database connection held, so a client that reads slowly or
// not at all costs one page of memory and never a connection. Why pages and not the whole
// guide in memory: a provider guide is millions of programmes (see Guide), and every download
// would hold its own copy.
func (g *Guide) Export(ctx context.Context, w io.Writer, opts ExportOptions) error {
	chans := opts.Channels
	var ids []string
	if chans == nil {
		stored, err := g.store.EPGChannels(ctx)
		if err != nil {
			return fmt.Errorf("export xmltv: %w", err)
		}
		for _, c := range stored {
			chans = append(chans, Channel{ID: c.ID, DisplayName: c.DisplayName, Icon: c.Icon})
		}
	} else {
		ids = make([]string, 0, len(chans))
		for _, c := range chans {
			ids = append(ids, c.ID)
		}
	}
	x := NewWriter(w, opts.GeneratorName, opts.GeneratorURL)
	for _, c := range chans {
		if err := x.Channel(c); err != nil {
			return err
		}
	}
	err := g.store.EachProgramme(ctx, opts.From, opts.To, ids, func(p store.Programme) error {
		return x.Programme(FromStore(p))
	})
	if err != nil {
		return fmt.Errorf("export xmltv: %w", err)
	}
	return x.Close()
}

// FromStore converts a stored programme.
func FromStore(p store.Programme) Programme {
	return Programme{Channel: p.ChannelID, Start: p.StartAt, Stop: p.StopAt, Title: p.Title, Desc: p.Description,
		Lang: p.Lang, Category: p.Category}
}

// ImportSummary reports an XMLTV import.
type ImportSummary struct {
	store.EPGImportResult
	Channels   int            // <channel> elements read
	Programmes int            // complete programmes read
	Skipped    map[string]int // programmes and channels left out, by reason
}

// Import reads an XMLTV document from r and merges it into the database (store.ImportEPG):
// idempotent, so importing the same file twice changes nothing the second time. sourceID, when
// set, is recorded on the channels.
func Import(ctx context.Context, st *store.Store, r io.Reader, sourceID *int64) (ImportSummary, error) {
	dec, err := NewDecoder(r)
	if err != nil {
		return ImportSummary{}, err
	}
	var sum ImportSummary
	res, err := st.ImportEPG(ctx, store.EPGImport{
		SourceID: sourceID,
		Next: func() (store.Programme, bool, error) {
			p, err := dec.Next()
			if err == io.EOF {
				return store.Programme{}, false, nil
			}
			if err != nil {
				return store.Programme{}, false, err
			}
			sum.Programmes++
			return store.Programme{ChannelID: p.Channel, StartAt: p.Start, StopAt: p.Stop, Title: p.Title,
				Description: p.Desc, Lang: p.Lang, Category: p.Category}, true, nil
		},
		Channels: func() []store.EPGChannel {
			chans := dec.Channels()
			out := make([]store.EPGChannel, len(chans))
			for i, c := range chans {
				out[i] = store.EPGChannel{ID: c.ID, DisplayName: c.DisplayName, Icon: c.Icon}
			}
			return out
		},
	})
	sum.EPGImportResult = res
	sum.Channels = len(dec.Channels())
	sum.Skipped = dec.Skipped()
	if err != nil {
		return sum, err
	}
	return sum, nil
}
