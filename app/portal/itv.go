package portal

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/mag"
)

// pageItems is the page size of every paged list (spec §5.4, §7 #22: EStalker hard-codes 14).
const pageItems = 14

// page is a paged list's place: the items of the page, and the envelope's max_page_items,
// cur_page and selected_item.
type page struct {
	from, to     int // items[from:to]
	size         int
	curPage      int
	selectedItem int
}

// all is the place of an unpaged list of n items (get_all_channels: cur_page 0).
func all(n int) page { return page{to: n, size: pageItems} }

// pageOf places a list of n items for request page p (1-based) of size items. p = 0 asks for
// the default page: the one holding the item at 1-based position sel (the last channel
// watched, the programme on now), with cur_page and selected_item pointing at it, or page 1
// when sel is 0. An explicit page reports cur_page 0 and selected_item 0, as XC 2.9 and
// Ministra both do; a page past the end is empty.
func pageOf(n, p, sel, size int) page {
	pg := page{size: size}
	if p == 0 {
		p = 1
		if sel > 0 {
			p = (sel-1)/size + 1
			pg.selectedItem = sel - (p-1)*size
		}
		pg.curPage = p
	}
	pg.from = min((p-1)*size, n)
	pg.to = min(pg.from+size, n)
	return pg
}

// appendPaged appends the envelope of a paged list: {"total_items":…,"max_page_items":14,
// "selected_item":…,"cur_page":…,"data":[…]}, the data appended by each.
func appendPaged(b []byte, total int, pg page, each func(b []byte) []byte) []byte {
	b = append(b, `{"total_items":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	b = append(b, `,"max_page_items":`...)
	b = strconv.AppendInt(b, int64(pg.size), 10)
	b = append(b, `,"selected_item":`...)
	b = strconv.AppendInt(b, int64(pg.selectedItem), 10)
	b = append(b, `,"cur_page":`...)
	b = strconv.AppendInt(b, int64(pg.curPage), 10)
	b = append(b, `,"data":[`...)
	b = each(b)
	return append(b, "]}"...)
}

// sendChannels answers a channel list: list[pg.from:pg.to] of total, numbered by the lineup,
// flagged with the device's favourites.
func (h *Handler) sendChannels(k *call, l *lineup, list []*catalog.Stream, total int, pg page) error {
	ch := channelsView.Of(k.entitlement(h).Snapshot())
	favs := idSet(k.dev.Favourites.Live)
	return sendBuilt(k.c, func(b []byte) []byte {
		return appendPaged(b, total, pg, func(b []byte) []byte {
			for i, st := range list[pg.from:pg.to] {
				if i > 0 {
					b = append(b, ',')
				}
				b = ch.appendChannel(b, st, l.number[st.Index], favs[st.ID])
			}
			return b
		})
	})
}

func idSet(ids []int64) map[int64]bool {
	m := make(map[int64]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// lineupOf is the call's lineup.
func (h *Handler) lineupOf(k *call) *lineup {
	ent := k.entitlement(h)
	return channelsView.Of(ent.Snapshot()).lineupOf(ent)
}

// itvAllChannels is itv/get_all_channels: every TV channel, unpaged (cur_page 0, as XC). It
// runs to megabytes for a big line, and a box asks for it at every portal start, so to a box
// that accepts gzip it goes gzip-encoded, kept with the catalog snapshot per bouquet set and
// favourites (the only parts of it that are the box's own).
func itvAllChannels(h *Handler, k *call) error {
	l := h.lineupOf(k)
	if !edge.AcceptsGzip(k.c.Get(fiber.HeaderAcceptEncoding)) {
		err := h.sendChannels(k, l, l.tv, len(l.tv), all(len(l.tv)))
		if len(k.c.Response().Body()) >= edge.MinGzipAnswer {
			k.c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding) // another box gets it encoded
		}
		return err
	}
	snap := k.entitlement(h).Snapshot()
	key := allChannelsKey{bouquets: edge.IDsKey(k.line.BouquetIDs), favourites: favouritesKey(k.dev.Favourites.Live)}
	if z := allChannelsAnswers.Kept(snap, key); z != nil {
		k.c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		k.c.Status(fiber.StatusOK)
		edge.SendGzip(k.c, z)
		return nil
	}
	if err := h.sendChannels(k, l, l.tv, len(l.tv), all(len(l.tv))); err != nil {
		return err
	}
	if b := k.c.Response().Body(); len(b) >= edge.MinGzipAnswer {
		k.c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
		if z := allChannelsAnswers.Get(snap, key, b); z != nil {
			edge.SendGzip(k.c, z)
		}
	}
	return nil
}

// allChannelsAnswers keeps get_all_channels answers, gzip-encoded.
var allChannelsAnswers = edge.NewGzipCache[allChannelsKey]()

// allChannelsKey is what shapes a get_all_channels answer within a snapshot: the line's
// bouquets in its order (the lineup and its numbers) and the set of the box's favourites (the
// fav flags), as values.
type allChannelsKey struct{ bouquets, favourites string }

// favouritesKey is a favourites list as a set: sorted, so the same favourites added in another
// order share the answer.
func favouritesKey(ids []int64) string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	return edge.IDsKey(slices.Compact(sorted))
}

// itvAllFavChannels is itv/get_all_fav_channels: the favourites in the box's order, unpaged.
func itvAllFavChannels(h *Handler, k *call) error {
	l := h.lineupOf(k)
	list := favChannels(l.tv, k.dev.Favourites.Live)
	return h.sendChannels(k, l, list, len(list), all(len(list)))
}

// itvOrderedList is itv/get_ordered_list: genre, favourites, search, sort (number, name, fav),
// then one page, the default page being the last channel watched's.
func itvOrderedList(h *Handler, k *call) error {
	l := h.lineupOf(k)
	p := &k.req.p
	list := l.tv
	if p.fav || p.sortBy == "fav" {
		list = favChannels(list, k.dev.Favourites.Live)
	}
	list = filterChannels(list, p.genre, p.search)
	if p.sortBy == "name" {
		ranks := channelsView.Of(k.entitlement(h).Snapshot()).nameRank
		list = slices.Clone(list)
		slices.SortFunc(list, func(a, b *catalog.Stream) int { return int(ranks[a.Index] - ranks[b.Index]) })
	}
	sel := 0
	if p.page == 0 && k.dev.LastChannel > 0 {
		sel = slices.IndexFunc(list, func(st *catalog.Stream) bool { return st.ID == k.dev.LastChannel }) + 1
	}
	return h.sendChannels(k, l, list, len(list), pageOf(len(list), p.page, sel, pageItems))
}

// favChannels is the entitled channels among ids, in the order of ids.
func favChannels(of []*catalog.Stream, ids []int64) []*catalog.Stream {
	in := make(map[int64]*catalog.Stream, len(of))
	for _, st := range of {
		in[st.ID] = st
	}
	out := make([]*catalog.Stream, 0, len(ids))
	for _, id := range ids {
		if st, ok := in[id]; ok {
			out = append(out, st)
		}
	}
	return out
}

// filterChannels keeps the channels of genre (0: all) whose name contains search (any case).
func filterChannels(list []*catalog.Stream, genre int64, search string) []*catalog.Stream {
	if genre == 0 && search == "" {
		return list
	}
	out := make([]*catalog.Stream, 0, len(list))
	for _, st := range list {
		if (genre == 0 || st.Category != nil && st.Category.ID == genre) && matches(st.Name, search) {
			out = append(out, st)
		}
	}
	return out
}

// genreEntry is an itv/get_genres item (spec §5.4): id a string ("*" for all).
type genreEntry struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Modified  string `json:"modified,omitempty"`
	Number    int    `json:"number,omitempty"`
	Alias     string `json:"alias"`
	ActiveSub bool   `json:"active_sub,omitempty"`
	Censored  int    `json:"censored"`
}

// itvGenres is itv/get_genres: "All", then the line's TV categories by position.
func itvGenres(h *Handler, k *call) error {
	l := h.lineupOf(k)
	out := make([]genreEntry, 0, len(l.genres)+1)
	out = append(out, genreEntry{ID: "*", Title: "All", Alias: "All", ActiveSub: true})
	for i, c := range l.genres {
		out = append(out, genreEntry{ID: c.IDString(), Title: c.Name, Number: i + 1, Alias: strings.ToLower(c.Name),
			Censored: censored(c)})
	}
	return writeJS(k.c, out)
}

func censored(c *catalog.Category) int {
	if c != nil && c.IsAdult {
		return 1
	}
	return 0
}

// itvSetFav is itv/set_fav: fav_ch replaces the favourite channels.
func itvSetFav(h *Handler, k *call) error {
	if err := h.devices.SetFavourites(k.ctx, k.dev, mag.FavLive, k.req.p.favIDs); err != nil {
		return err
	}
	return writeJS(k.c, true)
}

// itvFavIDs is itv/get_fav_ids (and radio's): the ids as strings, since the JavaScript client
// finds them with indexOf among the string ids of the lists.
func favIDs(list func(k *call) []int64) func(h *Handler, k *call) error {
	return func(_ *Handler, k *call) error {
		ids := list(k)
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = itoa(id)
		}
		return writeJS(k.c, out)
	}
}

// itvSetLastID is itv/set_last_id: the channel the box opens next time.
func itvSetLastID(h *Handler, k *call) error {
	if k.req.p.id > 0 {
		if _, ok := k.entitlement(h).Stream(k.req.p.id); ok {
			if err := h.devices.SetLastChannel(k.ctx, k.dev, k.req.p.id); err != nil {
				return err
			}
		}
	}
	return writeJS(k.c, true)
}

// radioEntry is a radio/get_ordered_list item (XC 2.9's shape).
type radioEntry struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Number           string `json:"number"`
	Cmd              string `json:"cmd"`
	Count            int    `json:"count"`
	Open             int    `json:"open"`
	UseHTTPTmpLink   string `json:"use_http_tmp_link"`
	Status           int    `json:"status"`
	VolumeCorrection int    `json:"volume_correction"`
	Fav              int    `json:"fav"`
}

// radioList is radio/get_ordered_list (fav=1: the favourites) and get_all_fav_radio.
func radioList(onlyFav bool) func(h *Handler, k *call) error {
	return func(h *Handler, k *call) error {
		l := h.lineupOf(k)
		list := l.radio
		if onlyFav || k.req.p.fav {
			list = favChannels(list, k.dev.Favourites.Radio)
		}
		pg := pageOf(len(list), k.req.p.page, 0, pageItems)
		if onlyFav {
			pg = all(len(list))
		}
		favs := idSet(k.dev.Favourites.Radio)
		items := make([]radioEntry, 0, pg.to-pg.from)
		for _, st := range list[pg.from:pg.to] {
			e := radioEntry{ID: itoa(st.ID), Name: st.Name, Number: strconv.Itoa(int(l.number[st.Index])),
				Cmd: localCmd(st.ID), Open: 1, UseHTTPTmpLink: "1", Status: 1}
			if favs[st.ID] {
				e.Fav = 1
			}
			items = append(items, e)
		}
		return writeJS(k.c, pagedOf(len(list), pg, items))
	}
}

// paged is the envelope of a paged list encoded from typed items.
type paged[T any] struct {
	TotalItems   int `json:"total_items"`
	MaxPageItems int `json:"max_page_items"`
	SelectedItem int `json:"selected_item"`
	CurPage      int `json:"cur_page"`
	Data         []T `json:"data"`
}

func pagedOf[T any](total int, pg page, data []T) paged[T] {
	return paged[T]{TotalItems: total, MaxPageItems: pg.size, SelectedItem: pg.selectedItem, CurPage: pg.curPage, Data: data}
}

// radioSetFav is radio/set_fav: fav_radio replaces the favourite stations.
func radioSetFav(h *Handler, k *call) error {
	if err := h.devices.SetFavourites(k.ctx, k.dev, mag.FavRadio, k.req.p.favIDs); err != nil {
		return err
	}
	return writeJS(k.c, true)
}
