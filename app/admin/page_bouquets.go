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
// moved entry's button has the focus again (press it again to keep moving). Each change is one
// call of the editor's UpdateBouquet, whose edit function applies the move to the list as it
// is inside the transaction: two admins ordering at once cannot lose each other's changes.

// entriesPerPage is how many entries of a list the bouquet page shows at once.
const entriesPerPage = 100

// bouquetList names the two lists of a bouquet.
type bouquetListName string

const (
	listStreams bouquetListName = "streams"
	listSeries  bouquetListName = "series"
)

// bouquetsView is the list of bouquets.
type bouquetsView struct {
	pageBase
	Items []BouquetSummary
	Next  string
}

// bouquetView is one bouquet with a page of one of its lists.
type bouquetView struct {
	pageBase
	Bouquet    Bouquet
	List       bouquetListName
	Entries    []entryRow
	Total      int
	Page, Last int    // the page shown and the last page (0-based)
	Focus      string // the button to focus: "up:12"
}

// entryRow is one entry of a bouquet's list as the page shows it.
type entryRow struct {
	editor.Entry
	Position int // 1-based, in the whole list
	Known    bool
	First    bool
	Last     bool
}

// addView lists the streams or series not yet in a bouquet, to add some.
type addView struct {
	pageBase
	Bouquet Bouquet
	List    bouquetListName
	Kinds   []string // the kinds of stream offered ("live", "radio", "movie"); nil for series
	Items   []editor.Entry
	Next    string
}

var bouquetOps = []string{"createBouquet", "updateBouquet", "deleteBouquet"}

func (a *API) bouquetPages() []pageRoute {
	return []pageRoute{
		{fiber.MethodGet, "/bouquets", a.bouquetsPage},
		{fiber.MethodPost, "/bouquets", a.createBouquetPage},
		{fiber.MethodGet, "/bouquets/:id", a.bouquetPage},
		{fiber.MethodPost, "/bouquets/:id", a.updateBouquetPage},
		{fiber.MethodPost, "/bouquets/:id/entries", a.bouquetEntriesPage},
		{fiber.MethodGet, "/bouquets/:id/add", a.bouquetAddPage},
		{fiber.MethodGet, "/bouquets/:id/delete", a.confirmDeletePage("deleteBouquet", "Delete the bouquet",
			"Lines that hold it lose it; its channels and series stay in the catalog.")},
		{fiber.MethodPost, "/bouquets/:id/delete", a.deleteBouquetPage},
	}
}

func (a *API) bouquetsPage(r *pageRequest) (pageResult, error) {
	v := &bouquetsView{pageBase: a.base(r, "Bouquets", bouquetOps...)}
	v.Form = r.query
	page, fe, err := read(a, r, "listBouquets", a.listBouquets, &bouquetList{PageQuery: PageQuery{Limit: 100}, Sort: "position"})
	if err != nil {
		return pageResult{}, err
	}
	v.Errors, v.Items, v.Next = fe, page.Items, r.nextPage("/admin/bouquets", page.NextCursor)
	return render("bouquets", v), nil
}

func (a *API) createBouquetPage(r *pageRequest) (pageResult, error) {
	b, fe, err := submit(a, r, "createBouquet", a.createBouquet, NoParams{})
	if err != nil {
		return pageResult{}, err
	}
	if fe != nil {
		v := &bouquetsView{pageBase: a.base(r, "Bouquets", bouquetOps...)}
		page, _, err := read(a, r, "listBouquets", a.listBouquets, &bouquetList{PageQuery: PageQuery{Limit: 100}, Sort: "position"})
		if err != nil {
			return pageResult{}, err
		}
		v.Items, v.Form, v.Errors = page.Items, r.form, fe
		return refused("bouquets", v), nil
	}
	return redirect(fmt.Sprintf("/admin/bouquets/%d", b.ID), "Bouquet "+b.Name+" created."), nil
}

// bouquetPage shows a bouquet: ?list=streams|series, ?page=N (0-based), ?focus=op:id.
func (a *API) bouquetPage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	b, _, err := read(a, r, "getBouquet", a.getBouquet, &ByID{ID: id}, "list", "page", "focus")
	if err != nil {
		return pageResult{}, err
	}
	v, err := a.bouquetView(r, b)
	if err != nil {
		return pageResult{}, err
	}
	v.Form = editValues(b, nil)
	return render("bouquet", v), nil
}

// bouquetView is the view of bouquet b for the list and page r asks for.
func (a *API) bouquetView(r *pageRequest, b Bouquet) (*bouquetView, error) {
	v := &bouquetView{pageBase: a.base(r, "Bouquet "+b.Name, bouquetOps...), Bouquet: b, List: listStreams,
		Focus: r.query.Get("focus")}
	ids := b.StreamIDs
	if r.query.Get("list") == string(listSeries) {
		v.List, ids = listSeries, b.SeriesIDs
	}
	v.Total = len(ids)
	v.Last = max(0, (len(ids)-1)/entriesPerPage)
	if n, err := strconv.Atoi(r.query.Get("page")); err == nil {
		v.Page = min(max(n, 0), v.Last)
	}
	shown := ids[min(v.Page*entriesPerPage, len(ids)):min((v.Page+1)*entriesPerPage, len(ids))]
	var streams, series map[int64]editor.Entry
	var err error
	if v.List == listSeries {
		_, series, err = a.d.Editor.Entries(r.ctx, nil, shown)
	} else {
		streams, _, err = a.d.Editor.Entries(r.ctx, shown, nil)
	}
	if err != nil {
		return nil, err
	}
	for i, id := range shown {
		e, ok := streams[id]
		if v.List == listSeries {
			e, ok = series[id]
		}
		if !ok {
			e = editor.Entry{ID: id}
		}
		pos := v.Page*entriesPerPage + i + 1
		v.Entries = append(v.Entries, entryRow{Entry: e, Position: pos, Known: ok, First: pos == 1, Last: pos == len(ids)})
	}
	return v, nil
}

func (a *API) updateBouquetPage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	b, fe, err := submit(a, r, "updateBouquet", a.updateBouquet, ByID{ID: id})
	if err != nil {
		return pageResult{}, err
	}
	if fe != nil {
		cur, err := a.getBouquet(r.call(), ByID{ID: id}, NoBody{})
		if err != nil {
			return pageResult{}, err
		}
		v, err := a.bouquetView(r, cur)
		if err != nil {
			return pageResult{}, err
		}
		v.Form, v.Errors = r.form, fe
		return refused("bouquet", v), nil
	}
	return redirect(fmt.Sprintf("/admin/bouquets/%d", id), "Bouquet "+b.Name+" saved."), nil
}

func (a *API) deleteBouquetPage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	if _, _, err := submit(a, r, "deleteBouquet", a.deleteBouquet, ByID{ID: id}); err != nil {
		return pageResult{}, err
	}
	return redirect("/admin/bouquets", "Bouquet deleted."), nil
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

// bouquetEntriesPage applies one change to a list of a bouquet (list=streams|series) and goes
// back to the page showing the moved entry, its button focused.
func (a *API) bouquetEntriesPage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	if !a.may(r, "updateBouquet") {
		return pageResult{}, errForbidden
	}
	list := listStreams
	if r.form.Get("list") == string(listSeries) {
		list = listSeries
	}
	back := fmt.Sprintf("/admin/bouquets/%d?list=%s", id, list)
	op, err := parseEntryOp(r.form)
	if err != nil {
		return redirect(back, "Nothing changed: "+plainError(err)), nil
	}
	addIDs, err := formIDs(r.form, "add")
	if err != nil {
		return redirect(back, "Nothing changed: "+plainError(err)), nil
	}
	positions := positionFields(r.form)
	b, err := a.d.Editor.UpdateBouquet(r.ctx, r.principal.Actor, id, func(b *editor.Bouquet) error {
		if list == listSeries {
			b.SeriesIDs = op.apply(b.SeriesIDs, addIDs, positions)
		} else {
			b.StreamIDs = op.apply(b.StreamIDs, addIDs, positions)
		}
		return nil
	})
	if fe := formRefusal(err); fe != nil {
		return redirect(back, "Nothing changed: "+fe.Text()), nil
	}
	if err != nil {
		return pageResult{}, err
	}
	ids := b.StreamIDs
	if list == listSeries {
		ids = b.SeriesIDs
	}
	return redirect(entryFocus(back, op, ids), entryMessage(op, len(addIDs))), nil
}

// entryFocus is the bouquet page showing the entry op moved, with its button focused.
func entryFocus(back string, op entryOp, ids []int64) string {
	i := slices.Index(ids, op.id)
	if op.verb == "add" || op.verb == "apply" || op.verb == "remove" || i < 0 {
		if op.verb == "add" {
			return fmt.Sprintf("%s&page=%d", back, max(0, len(ids)-1)/entriesPerPage)
		}
		return back
	}
	focus := fmt.Sprintf("%s:%d", op.verb, op.id)
	if op.verb == "to" {
		focus = fmt.Sprintf("pos:%d", op.id)
	}
	return fmt.Sprintf("%s&page=%d&focus=%s#e-%d", back, i/entriesPerPage, url.QueryEscape(focus), op.id)
}

func entryMessage(op entryOp, added int) string {
	switch op.verb {
	case "add":
		return fmt.Sprintf("%d added.", added)
	case "remove":
		return "Removed."
	case "apply":
		return "Order saved."
	}
	return "Moved."
}

// plainError is a refusal's reason for a message ("refused" for anything else).
func plainError(err error) string {
	if fe := formRefusal(err); fe != nil {
		return fe.Text()
	}
	return "refused"
}

// bouquetAddPage lists what can be added to a list of a bouquet: streams (?kind=live, radio or
// movie; ?name=, ?category_id=) or series, leaving out those it holds already.
func (a *API) bouquetAddPage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	if !a.may(r, "updateBouquet") {
		return pageResult{}, errForbidden
	}
	b, err := a.getBouquet(r.call(), ByID{ID: id}, NoBody{})
	if err != nil {
		return pageResult{}, err
	}
	v := &addView{pageBase: a.base(r, "Add to "+b.Name, bouquetOps...), Bouquet: b, List: listStreams,
		Kinds: []string{"live", "radio", "movie"}}
	v.Form = r.query
	own := []string{"list", "kind"}
	var fe *formErrors
	var next *string
	switch {
	case r.query.Get("list") == string(listSeries):
		v.List, v.Kinds = listSeries, nil
		var page Page[Series]
		page, fe, err = read(a, r, "listSeries", a.listSeries, &seriesList{PageQuery: PageQuery{Limit: 100}, Sort: "name"}, own...)
		for _, s := range page.Items {
			if !slices.Contains(b.SeriesIDs, s.ID) {
				v.Items = append(v.Items, editor.Entry{ID: s.ID, Kind: "series", Name: s.Name, CategoryID: s.CategoryID, Enabled: true})
			}
		}
		next = page.NextCursor
	case r.query.Get("kind") == "movie":
		var page Page[Movie]
		page, fe, err = read(a, r, "listMovies", a.listMovies, &StreamFilters{PageQuery: PageQuery{Limit: 100}, Sort: "name"}, own...)
		for _, m := range page.Items {
			if !slices.Contains(b.StreamIDs, m.ID) {
				v.Items = append(v.Items, editor.Entry{ID: m.ID, Kind: "movie", Name: m.Name, CategoryID: m.CategoryID, Enabled: m.Enabled})
			}
		}
		next = page.NextCursor
	default:
		q := &liveList{StreamFilters: StreamFilters{PageQuery: PageQuery{Limit: 100}, Sort: "name"}}
		if k := r.query.Get("kind"); k == "radio" || k == "live" {
			q.Kind = k
		}
		var page Page[LiveStream]
		page, fe, err = read(a, r, "listLiveStreams", a.listLive, q, own...)
		for _, s := range page.Items {
			if !slices.Contains(b.StreamIDs, s.ID) {
				v.Items = append(v.Items, editor.Entry{ID: s.ID, Kind: s.Kind, Name: s.Name, CategoryID: s.CategoryID, Enabled: s.Enabled})
			}
		}
		next = page.NextCursor
	}
	if err != nil {
		return pageResult{}, err
	}
	v.Errors, v.Next = fe, r.nextPage(r.path, next)
	return render("bouquet-add", v), nil
}
