package admin

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/catalog/editor"
	"github.com/xtreamd/xtreamd/internal/input"
)

// The bouquets pages: the list, a bouquet's name and position, and its two ordered lists
// (channels, radio and movies; series). Ordering needs no dragging: every entry has Move up
// and Move down buttons and a position field, so a keyboard does it all, and after a move the
// moved entry's button has the focus again (press it again to keep moving). Each change of a
// list is one call of the editor's UpdateBouquet (what updateBouquet calls), with the
// operation's permission, whose edit function applies the move to the list as it is inside
// the transaction: two admins ordering at once cannot lose each other's changes.

// entriesPerPage is how many entries of a list the bouquet page shows at once.
const entriesPerPage = 100

// bouquetListName names the two lists of a bouquet.
type bouquetListName string

const (
	listStreams bouquetListName = "streams"
	listSeries  bouquetListName = "series"
)

// bouquetsData is the bouquets page's data.
type bouquetsData struct {
	listData[BouquetSummary]
	Can map[string]bool
}

// bouquetData is one bouquet with a page of one of its lists.
type bouquetData struct {
	Bouquet    Bouquet
	List       bouquetListName
	Entries    []entryRow
	Total      int
	Page, Last int    // the page shown and the last page (0-based)
	Focus      string // the button to focus again: "up:12", "pos:12"
	Can        map[string]bool
}

// entryRow is one entry of a bouquet's list as the page shows it.
type entryRow struct {
	editor.Entry
	Position int  // 1-based, in the whole list
	Known    bool // false: the id names nothing (any more)
	First    bool
	Last     bool
}

// bouquetAddData lists what can be added to a list of a bouquet.
type bouquetAddData struct {
	Bouquet Bouquet
	List    bouquetListName
	Kind    string // live, radio or movie; "" for series
	listData[editor.Entry]
}

var bouquetOpIDs = []string{"createBouquet", "updateBouquet", "deleteBouquet"}

var bouquetNotices = map[string]string{
	"created": "The bouquet was created.", "saved": "The bouquet was saved.", "deleted": "The bouquet was deleted.",
	"moved": "Moved.", "removed": "Removed from the bouquet.", "added": "Added to the bouquet: ", "ordered": "The order was saved.",
}

func (a *API) webBouquetRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/bouquets", Handler: a.bouquetsPage},
		{Method: fiber.MethodPost, Path: "/bouquets", Handler: a.bouquetCreate},
		{Method: fiber.MethodGet, Path: "/bouquets/:id", Handler: a.bouquetPage},
		{Method: fiber.MethodPost, Path: "/bouquets/:id", Handler: a.bouquetUpdate},
		{Method: fiber.MethodPost, Path: "/bouquets/:id/entries", Handler: a.bouquetEntries},
		{Method: fiber.MethodGet, Path: "/bouquets/:id/add", Handler: a.bouquetAddPage},
		{Method: fiber.MethodPost, Path: "/bouquets/:id/delete", Handler: a.bouquetDelete},
	}
}

func (a *API) bouquetsView(w *webCall) (*view, error) {
	q := requestQuery(w.c)
	v := w.view("Bouquets", "/bouquets", nil)
	lq := url.Values{"limit": {"200"}, "sort": {"position"}, "cursor": {q.Get("cursor")}}
	page, err := webRun[Page[BouquetSummary]](w, "listBouquets", lq, nil)
	if err != nil {
		if !v.refused(err) {
			return nil, err
		}
		page = Page[BouquetSummary]{Items: []BouquetSummary{}}
	}
	v.Data = bouquetsData{listData: webList(page, url.Values{}, "/admin/bouquets"), Can: w.can(bouquetOpIDs...)}
	return v, nil
}

func (a *API) bouquetsPage(w *webCall) error {
	v, err := a.bouquetsView(w)
	if err != nil {
		return err
	}
	v.Notice = notice(w.c, bouquetNotices)
	return a.render(w.c, "bouquets", v)
}

func (a *API) bouquetCreate(w *webCall) error {
	b, err := webSubmit[Bouquet](w, "createBouquet")
	if err != nil {
		return a.refusedOn(w, "bouquets", "Bouquets", "/bouquets", err, func() (*view, error) { return a.bouquetsView(w) })
	}
	return w.c.Redirect(fmt.Sprintf("/admin/bouquets/%d?done=created", b.ID), fiber.StatusSeeOther)
}

// bouquetPage shows a bouquet: ?list=streams|series, ?page=N (0-based), ?focus=up:12.
func (a *API) bouquetPage(w *webCall) error {
	b, err := webRun[Bouquet](w, "getBouquet", nil, nil)
	if err != nil {
		return a.failed(w, "Bouquet", "/bouquets", err)
	}
	v, err := a.bouquetView(w, b)
	if err != nil {
		return err
	}
	v.Notice = notice(w.c, bouquetNotices)
	return a.render(w.c, "bouquet", v)
}

// bouquetView is the view of bouquet b for the list and page the request asks for.
func (a *API) bouquetView(w *webCall, b Bouquet) (*view, error) {
	q := requestQuery(w.c)
	d := bouquetData{Bouquet: b, List: listStreams, Focus: q.Get("focus"), Can: w.can(bouquetOpIDs...)}
	ids := b.StreamIDs
	if q.Get("list") == string(listSeries) {
		d.List, ids = listSeries, b.SeriesIDs
	}
	d.Total = len(ids)
	d.Last = max(0, (len(ids)-1)/entriesPerPage)
	if n, err := strconv.Atoi(q.Get("page")); err == nil {
		d.Page = min(max(n, 0), d.Last)
	}
	shown := ids[min(d.Page*entriesPerPage, len(ids)):min((d.Page+1)*entriesPerPage, len(ids))]
	var streams, series map[int64]editor.Entry
	var err error
	if d.List == listSeries {
		_, series, err = a.d.Editor.Entries(w.c.UserContext(), nil, shown)
	} else {
		streams, _, err = a.d.Editor.Entries(w.c.UserContext(), shown, nil)
	}
	if err != nil {
		return nil, err
	}
	for i, id := range shown {
		e, ok := streams[id]
		if d.List == listSeries {
			e, ok = series[id]
		}
		if !ok {
			e = editor.Entry{ID: id}
		}
		pos := d.Page*entriesPerPage + i + 1
		d.Entries = append(d.Entries, entryRow{Entry: e, Position: pos, Known: ok, First: pos == 1, Last: pos == len(ids)})
	}
	return w.view("Bouquet "+b.Name, "/bouquets", d), nil
}

// bouquetRefused shows bouquet :id's page again after err refused a change of it.
func (a *API) bouquetRefused(w *webCall, err error) error {
	return a.refusedOn(w, "bouquet", "Bouquet", "/bouquets", err, func() (*view, error) {
		cur, gerr := webRun[Bouquet](w, "getBouquet", nil, nil)
		if gerr != nil {
			return nil, gerr
		}
		return a.bouquetView(w, cur)
	})
}

func (a *API) bouquetUpdate(w *webCall) error {
	b, err := webSubmit[Bouquet](w, "updateBouquet")
	if err != nil {
		return a.bouquetRefused(w, err)
	}
	return w.c.Redirect(fmt.Sprintf("/admin/bouquets/%d?done=saved", b.ID), fiber.StatusSeeOther)
}

func (a *API) bouquetDelete(w *webCall) error {
	if _, err := webSubmit[NoContent](w, "deleteBouquet"); err != nil {
		return a.failed(w, "Bouquet", "/bouquets", err)
	}
	return w.c.Redirect("/admin/bouquets?done=deleted", fiber.StatusSeeOther)
}

// entryOp is one change of a bouquet's list, as a button of the bouquet page posts it
// (op=up:12, down:12, to:12 with pos:12, remove:12, add with the add fields, apply).
type entryOp struct {
	verb string
	id   int64
	to   int // for "to": the 1-based position asked for
}

// parseEntryOp reads the op of a form; positions come from the pos:<id> fields.
func parseEntryOp(form url.Values) (entryOp, error) {
	verb, rest, _ := strings.Cut(form.Get("op"), ":")
	switch verb {
	case "add", "apply":
		return entryOp{verb: verb}, nil
	case "up", "down", "to", "remove":
	default:
		return entryOp{}, input.Invalid("op", "not a change of the list")
	}
	id, ok := input.ID(rest)
	if !ok {
		return entryOp{}, input.Invalid("op", "not an entry of the list")
	}
	op := entryOp{verb: verb, id: id}
	if verb == "to" {
		n, err := strconv.Atoi(strings.TrimSpace(form.Get("pos:" + rest)))
		if err != nil || n < 1 {
			return entryOp{}, input.Invalid("pos:"+rest, "a position, 1 or more")
		}
		op.to = n
	}
	return op, nil
}

// apply applies op to the list ids (a copy is changed); addIDs are the ids an add adds and
// positions the pos:<id> fields an apply reads.
func (op entryOp) apply(ids []int64, addIDs []int64, positions map[int64]int) []int64 {
	ids = slices.Clone(ids)
	switch op.verb {
	case "add":
		for _, id := range addIDs {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		return ids
	case "apply": // every position field that differs, top to bottom as the page listed them
		for _, id := range slices.Clone(ids) {
			if to, ok := positions[id]; ok && to != slices.Index(ids, id)+1 {
				ids = moveTo(ids, id, to-1)
			}
		}
		return ids
	}
	i := slices.Index(ids, op.id)
	if i < 0 {
		return ids
	}
	switch op.verb {
	case "up":
		return moveTo(ids, op.id, i-1)
	case "down":
		return moveTo(ids, op.id, i+1)
	case "to":
		return moveTo(ids, op.id, op.to-1)
	}
	return slices.Delete(ids, i, i+1) // remove
}

// moveTo moves id to index to of ids (clamped to the list), keeping the others' order.
func moveTo(ids []int64, id int64, to int) []int64 {
	i := slices.Index(ids, id)
	if i < 0 {
		return ids
	}
	ids = slices.Delete(ids, i, i+1)
	to = min(max(to, 0), len(ids))
	return slices.Insert(ids, to, id)
}

// formIDs reads the ids of the fields name (checkboxes, or a text of ids).
func formIDs(form url.Values, name string) ([]int64, error) {
	var out []int64
	for _, v := range form[name] {
		for _, s := range splitItems(v, true) {
			id, ok := input.ID(s)
			if !ok {
				return nil, input.Invalid(name, fmt.Sprintf("%q is not an id", input.Truncate(s, 32)))
			}
			out = append(out, id)
		}
	}
	return out, nil
}

// positionFields reads the pos:<id> fields of an apply.
func positionFields(form url.Values) map[int64]int {
	out := map[int64]int{}
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, "pos:")
		id, okID := input.ID(rest)
		n, err := strconv.Atoi(strings.TrimSpace(v[len(v)-1]))
		if ok && okID && err == nil && n >= 1 {
			out[id] = n
		}
	}
	return out
}

// bouquetEntries applies one change to a list of a bouquet (list=streams|series) and goes back
// to the page showing the moved entry, its button focused again.
func (a *API) bouquetEntries(w *webCall) error {
	id, ok := w.pathID("id")
	if !ok {
		return a.notFound(w, "bouquet")
	}
	if !w.may("updateBouquet") {
		return a.forbidden(w)
	}
	form := formValues(w.c)
	list := listStreams
	if form.Get("list") == string(listSeries) {
		list = listSeries
	}
	op, err := parseEntryOp(form)
	var addIDs []int64
	if err == nil {
		addIDs, err = formIDs(form, "add")
	}
	var b editor.Bouquet
	if err == nil {
		positions := positionFields(form)
		b, err = a.d.Editor.UpdateBouquet(w.c.UserContext(), w.p.Actor, id, func(b *editor.Bouquet) error {
			if list == listSeries {
				b.SeriesIDs = op.apply(b.SeriesIDs, addIDs, positions)
			} else {
				b.StreamIDs = op.apply(b.StreamIDs, addIDs, positions)
			}
			return nil
		})
	}
	if err != nil {
		return a.bouquetRefused(w, err)
	}
	ids := b.StreamIDs
	if list == listSeries {
		ids = b.SeriesIDs
	}
	back := fmt.Sprintf("/admin/bouquets/%d?list=%s", id, list)
	return w.c.Redirect(entryFocus(back, op, ids, len(addIDs)), fiber.StatusSeeOther)
}

// entryFocus is the bouquet page showing the entry op moved, with its button focused.
func entryFocus(back string, op entryOp, ids []int64, added int) string {
	i := slices.Index(ids, op.id)
	switch {
	case op.verb == "add":
		return fmt.Sprintf("%s&done=added&n=%d&page=%d", back, added, max(0, len(ids)-1)/entriesPerPage)
	case op.verb == "apply":
		return back + "&done=ordered"
	case op.verb == "remove" || i < 0:
		return back + "&done=removed"
	}
	focus := fmt.Sprintf("%s:%d", op.verb, op.id)
	if op.verb == "to" {
		focus = fmt.Sprintf("pos:%d", op.id)
	}
	return fmt.Sprintf("%s&done=moved&page=%d&focus=%s#e-%d", back, i/entriesPerPage, url.QueryEscape(focus), op.id)
}

// bouquetAddPage lists what can be added to a list of a bouquet: streams (?kind=live, radio or
// movie; ?name=, ?category_id=) or series (?list=series), leaving out those it holds already.
func (a *API) bouquetAddPage(w *webCall) error {
	if !w.may("updateBouquet") {
		return a.forbidden(w)
	}
	b, err := webRun[Bouquet](w, "getBouquet", nil, nil)
	if err != nil {
		return a.failed(w, "Bouquet", "/bouquets", err)
	}
	q := requestQuery(w.c)
	d := bouquetAddData{Bouquet: b, List: listStreams, Kind: "live"}
	var items []editor.Entry
	lq := url.Values{"limit": {"100"}, "sort": {"name"}, "name": {q.Get("name")}, "category_id": {q.Get("category_id")},
		"cursor": {q.Get("cursor")}}
	var next *string
	switch {
	case q.Get("list") == string(listSeries):
		d.List, d.Kind = listSeries, ""
		var page Page[Series]
		page, err = webRun[Page[Series]](w, "listSeries", lq, nil)
		for _, s := range page.Items {
			items = append(items, editor.Entry{ID: s.ID, Kind: "series", Name: s.Name, CategoryID: s.CategoryID, Enabled: true})
		}
		next = page.NextCursor
	case q.Get("kind") == "movie":
		d.Kind = "movie"
		var page Page[Movie]
		page, err = webRun[Page[Movie]](w, "listMovies", lq, nil)
		for _, m := range page.Items {
			items = append(items, editor.Entry{ID: m.ID, Kind: "movie", Name: m.Name, CategoryID: m.CategoryID, Enabled: m.Enabled})
		}
		next = page.NextCursor
	default:
		if q.Get("kind") == "radio" {
			d.Kind = "radio"
		}
		lq.Set("kind", d.Kind)
		var page Page[LiveStream]
		page, err = webRun[Page[LiveStream]](w, "listLiveStreams", lq, nil)
		for _, s := range page.Items {
			items = append(items, editor.Entry{ID: s.ID, Kind: s.Kind, Name: s.Name, CategoryID: s.CategoryID, Enabled: s.Enabled})
		}
		next = page.NextCursor
	}
	v := w.view("Add to "+b.Name, "/bouquets", nil)
	if err != nil && !v.refused(err) {
		return err
	}
	have := b.StreamIDs
	if d.List == listSeries {
		have = b.SeriesIDs
	}
	items = slices.DeleteFunc(items, func(e editor.Entry) bool { return slices.Contains(have, e.ID) })
	d.listData = webList(Page[editor.Entry]{Items: items, NextCursor: next}, q, fmt.Sprintf("/admin/bouquets/%d/add", b.ID))
	v.Data = d
	return a.render(w.c, "bouquet_add", v)
}
