package catalog

import (
	"encoding/binary"
)

// Entitlement is what one ordered list of bouquets gives a line, resolved once per snapshot
// and bouquet list and shared by every line with that list (thousands of lines share a few
// bouquet sets). Lists are in bouquet order: the line's bouquets in its order, each bouquet's
// entries by position, the first occurrence of a stream winning. Every method is a lookup or a
// slice read; the slices are shared and must not be modified.
type Entitlement struct {
	snap *Snapshot

	live, vod         []*Stream
	series            []*Series
	liveByCat         map[int64][]*Stream
	vodByCat          map[int64][]*Stream
	seriesByCat       map[int64][]*Series
	liveCats, vodCats []*Category
	seriesCats        []*Category
	streams           map[int64]struct{} // entitled live and movie ids
	seriesIDs         map[int64]struct{}
}

// Entitlement returns the entitlement of a line whose bouquets are bouquetIDs, in the line's
// order. Unknown bouquet ids are ignored. The result is cached in the snapshot per distinct
// list, so a call for a known list is a map lookup.
func (s *Snapshot) Entitlement(bouquetIDs []int64) *Entitlement {
	var stack [128]byte
	key := entitlementKey(stack[:0], bouquetIDs)
	s.entMu.RLock()
	e, ok := s.ents[string(key)] // no allocation for the lookup
	s.entMu.RUnlock()
	if ok {
		return e
	}
	e = s.buildEntitlement(bouquetIDs)
	s.entMu.Lock()
	defer s.entMu.Unlock()
	if prev, ok := s.ents[string(key)]; ok { // built meanwhile by another request
		return prev
	}
	if len(s.ents) < s.maxCached {
		s.ents[string(key)] = e
	}
	return e
}

func entitlementKey(buf []byte, ids []int64) []byte {
	for _, id := range ids {
		buf = binary.AppendVarint(buf, id)
	}
	return buf
}

func (s *Snapshot) buildEntitlement(bouquetIDs []int64) *Entitlement {
	e := &Entitlement{
		snap:        s,
		liveByCat:   make(map[int64][]*Stream),
		vodByCat:    make(map[int64][]*Stream),
		seriesByCat: make(map[int64][]*Series),
	}
	var nLive, nVOD, nSeries int
	seen := make(map[int64]bool, len(bouquetIDs))
	var bqs []*bouquet
	for _, id := range bouquetIDs {
		if b := s.bouquets[id]; b != nil && !seen[id] {
			seen[id] = true
			bqs = append(bqs, b)
			nLive, nVOD, nSeries = nLive+len(b.live), nVOD+len(b.vod), nSeries+len(b.series)
		}
	}
	e.streams = make(map[int64]struct{}, nLive+nVOD)
	e.seriesIDs = make(map[int64]struct{}, nSeries)
	e.live = make([]*Stream, 0, nLive)
	e.vod = make([]*Stream, 0, nVOD)
	e.series = make([]*Series, 0, nSeries)
	for _, b := range bqs {
		for _, st := range b.live {
			if _, dup := e.streams[st.ID]; !dup {
				e.streams[st.ID] = struct{}{}
				e.live = append(e.live, st)
			}
		}
		for _, st := range b.vod {
			if _, dup := e.streams[st.ID]; !dup {
				e.streams[st.ID] = struct{}{}
				e.vod = append(e.vod, st)
			}
		}
		for _, se := range b.series {
			if _, dup := e.seriesIDs[se.ID]; !dup {
				e.seriesIDs[se.ID] = struct{}{}
				e.series = append(e.series, se)
			}
		}
	}
	for _, st := range e.live {
		if st.Category != nil {
			e.liveByCat[st.Category.ID] = append(e.liveByCat[st.Category.ID], st)
		}
	}
	for _, st := range e.vod {
		if st.Category != nil {
			e.vodByCat[st.Category.ID] = append(e.vodByCat[st.Category.ID], st)
		}
	}
	for _, se := range e.series {
		if se.Category != nil {
			e.seriesByCat[se.Category.ID] = append(e.seriesByCat[se.Category.ID], se)
		}
	}
	for _, c := range s.liveCats {
		if len(e.liveByCat[c.ID]) > 0 {
			e.liveCats = append(e.liveCats, c)
		}
	}
	for _, c := range s.vodCats {
		if len(e.vodByCat[c.ID]) > 0 {
			e.vodCats = append(e.vodCats, c)
		}
	}
	if s.filterSeriesCats {
		for _, c := range s.seriesCats {
			if len(e.seriesByCat[c.ID]) > 0 {
				e.seriesCats = append(e.seriesCats, c)
			}
		}
	} else {
		e.seriesCats = s.seriesCats
	}
	return e
}

// Live returns the entitled live-type streams (live, created_live, radio) in bouquet order;
// categoryID 0 means every category (get_live_streams).
func (e *Entitlement) Live(categoryID int64) []*Stream {
	if categoryID == 0 {
		return e.live
	}
	return e.liveByCat[categoryID]
}

// VOD returns the entitled movies in bouquet order; categoryID 0 means all (get_vod_streams).
func (e *Entitlement) VOD(categoryID int64) []*Stream {
	if categoryID == 0 {
		return e.vod
	}
	return e.vodByCat[categoryID]
}

// Series returns the entitled series in bouquet order; categoryID 0 means all (get_series).
func (e *Entitlement) Series(categoryID int64) []*Series {
	if categoryID == 0 {
		return e.series
	}
	return e.seriesByCat[categoryID]
}

// LiveCategories returns the live and radio categories holding at least one entitled stream,
// by category position (get_live_categories).
func (e *Entitlement) LiveCategories() []*Category { return e.liveCats }

// VODCategories returns the movie categories holding at least one entitled movie, by position
// (get_vod_categories).
func (e *Entitlement) VODCategories() []*Category { return e.vodCats }

// SeriesCategories returns every series category by position, as XC 2.9 does, or only those
// holding an entitled series with BuildOptions.FilterSeriesCategories (get_series_categories).
func (e *Entitlement) SeriesCategories() []*Category { return e.seriesCats }

// Allows reports whether the line may open stream id: a live channel or movie of its
// bouquets, or an episode of one of its series (the NOT_IN_BOUQUET step). O(1).
func (e *Entitlement) Allows(streamID int64) bool {
	if _, ok := e.streams[streamID]; ok {
		return true
	}
	if st, ok := e.snap.streams[streamID]; ok && st.Episode != nil {
		_, ok := e.seriesIDs[st.Episode.Series.ID]
		return ok
	}
	return false
}

// HasSeries reports whether series id is in the line's bouquets (get_series_info).
func (e *Entitlement) HasSeries(seriesID int64) bool {
	_, ok := e.seriesIDs[seriesID]
	return ok
}

// Stream returns stream id when the line may open it (any kind), for get_vod_info and the
// stream routes: one call does the lookup and the bouquet check.
func (e *Entitlement) Stream(id int64) (*Stream, bool) {
	if !e.Allows(id) {
		return nil, false
	}
	return e.snap.Stream(id)
}

// Snapshot is the snapshot the entitlement belongs to.
func (e *Entitlement) Snapshot() *Snapshot { return e.snap }
