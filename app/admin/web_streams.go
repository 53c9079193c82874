package admin

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The live streams and movies pages: filtered lists, and a form per stream with its sources
// in failover order (a row each, with a position field to reorder them from the keyboard and
// a blank row to add one), its EPG id and always-on flag (live), its container and metadata
// (movies). Each source has a test-play link: the upstream itself, opened in a new tab (a
// player such as VLC plays a .ts or .m3u8 link), so an operator checks a provider's URL before
// lines see the channel. The operations are /api/v1/live-streams' and /api/v1/vod's.

var streamNotices = map[string]string{
	"created": "The stream was created.", "saved": "The stream was saved.", "deleted": "The stream was deleted.",
}

// streamFamily is what differs between the live streams and the movies pages.
type streamFamily struct {
	Base, Title, Nav          string // /streams, "Live streams", its navigation entry
	List, Get, Create, Update string // operation ids
	Delete                    string
	CategoryKinds             []string // the category kinds its streams take
	Texts                     []string // the fields its form shows (_fields)
	NewTitle, Noun            string
}

var liveFamily = streamFamily{Base: "/streams", Title: "Live streams", Nav: "/streams",
	List: "listLiveStreams", Get: "getLiveStream", Create: "createLiveStream", Update: "updateLiveStream", Delete: "deleteLiveStream",
	CategoryKinds: []string{"live", "radio"}, NewTitle: "New live channel", Noun: "channel",
	Texts: []string{"name", "category_id", "icon", "epg_channel_id", "custom_sid", "direct_source", "tv_archive_days",
		"catchup_source", "enabled", "always_on", "sources"}}

var vodFamily = streamFamily{Base: "/vod", Title: "Movies", Nav: "/vod",
	List: "listMovies", Get: "getMovie", Create: "createMovie", Update: "updateMovie", Delete: "deleteMovie",
	CategoryKinds: []string{"movie"}, NewTitle: "New movie", Noun: "movie",
	Texts: []string{"name", "category_id", "icon", "custom_sid", "direct_source", "container_extension", "info", "enabled", "sources"}}

func (a *API) webStreamRoutes() []webRoute {
	var out []webRoute
	for _, f := range []streamFamily{liveFamily, vodFamily} {
		out = append(out,
			webRoute{Method: fiber.MethodGet, Path: f.Base, Handler: a.streamsPage(f)},
			webRoute{Method: fiber.MethodGet, Path: f.Base + "/new", Handler: a.streamNewPage(f)},
			webRoute{Method: fiber.MethodPost, Path: f.Base, Handler: a.streamCreate(f)},
			webRoute{Method: fiber.MethodGet, Path: f.Base + "/:id", Handler: a.streamPage(f)},
			webRoute{Method: fiber.MethodPost, Path: f.Base + "/:id", Handler: a.streamUpdate(f)},
			webRoute{Method: fiber.MethodPost, Path: f.Base + "/:id/delete", Handler: a.streamDelete(f)})
	}
	return out
}

// streamRow is a live stream or a movie as a list shows it.
type streamRow struct {
	ID           int64
	Kind         string
	Name         string
	Category     string
	EPGChannelID string
	Sources      int
	TestURL      string // the first http(s) source, for the test-play link
	Enabled      bool
	AlwaysOn     bool
}

// streamsData is a list page's data.
type streamsData struct {
	listData[streamRow]
	Family     streamFamily
	Categories []Category
	Can        map[string]bool
}

// Path is the family's list path, for the templates.
func (f streamFamily) Path() string { return "/admin" + f.Base }

// Live reports whether the family is the live channels.
func (f streamFamily) Live() bool { return f.Base == liveFamily.Base }

// Fields is the _fields value of the family's edit form.
func (f streamFamily) Fields() string { return listed(f.Texts...) }

// streamForm is the edit form's data.
type streamForm struct {
	Family     streamFamily
	ID         int64 // 0 for a new stream
	Kind       string
	Categories []Category
	Sources    []sourceRow
	PlayerURL  string // the URL a player opens, credentials left as placeholders
	Can        map[string]bool
	Cur        streamValues // the stream as stored (the zero value for a new one, enabled)
}

// streamValues are what the form of a live stream or a movie shows of it as stored.
type streamValues struct {
	Name, Icon, CustomSID, EPGChannelID, CatchupSource, ContainerExtension, Info string
	CategoryID                                                                   *int64
	DirectSource, Enabled, AlwaysOn                                              bool
	TVArchiveDays                                                                int32
}

func liveValues(s LiveStream) streamValues {
	return streamValues{Name: s.Name, Icon: s.Icon, CustomSID: s.CustomSID, EPGChannelID: derefString(s.EPGChannelID),
		CatchupSource: derefString(s.CatchupSource), CategoryID: s.CategoryID, DirectSource: s.DirectSource,
		Enabled: s.Enabled, AlwaysOn: s.AlwaysOn, TVArchiveDays: s.TVArchiveDays}
}

func movieValues(m Movie) streamValues {
	return streamValues{Name: m.Name, Icon: m.Icon, CustomSID: m.CustomSID, ContainerExtension: m.ContainerExtension,
		Info: jsonForm(m.Info), CategoryID: m.CategoryID, DirectSource: m.DirectSource, Enabled: m.Enabled}
}

// jsonForm is a JSON object as a textarea shows it: indented, "" when empty. It is text for
// html/template to escape, so < stays < (no \u003c to puzzle the reader).
func jsonForm(v map[string]any) string {
	if len(v) == 0 {
		return ""
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
	return strings.TrimSpace(b.String())
}

// sourceRow is one row of a stream's sources: a stored or posted source, or the blank row.
type sourceRow struct {
	Index     int
	URL, Kind string
	TestURL   string // URL when it is http(s): the test-play link
}

// categoriesFor are the categories a stream of family f may be in (at most 1000 of a kind).
func (a *API) categoriesFor(w *webCall, f streamFamily) ([]Category, error) {
	return categoriesOf(w, f.CategoryKinds...)
}

// categoriesOf are the categories of kinds, by position (at most 1000 of a kind).
func categoriesOf(w *webCall, kinds ...string) ([]Category, error) {
	var out []Category
	for _, k := range kinds {
		p, err := webRun[Page[Category]](w, "listCategories", url.Values{"kind": {k}, "sort": {"position"}, "limit": {"1000"}}, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
	}
	return out, nil
}

// categoryName names category id among cats.
func categoryName(cats []Category, id *int64) string {
	if id == nil {
		return ""
	}
	if i := slices.IndexFunc(cats, func(c Category) bool { return c.ID == *id }); i >= 0 {
		return cats[i].Name
	}
	return "#" + strconv.FormatInt(*id, 10)
}

// testURL is s when a browser or player can open it (http or https), else "".
func testURL(s string) string {
	if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return s
	}
	return ""
}

func (a *API) streamsPage(f streamFamily) func(*webCall) error {
	return func(w *webCall) error {
		q := requestQuery(w.c)
		v := w.view(f.Title, f.Nav, nil)
		cats, err := a.categoriesFor(w, f)
		if err != nil && !v.refused(err) {
			return err
		}
		d := streamsData{Family: f, Categories: cats, Can: w.can(f.Create, f.Update, f.Delete)}
		var rows []streamRow
		var next *string
		if f.Live() {
			var page Page[LiveStream]
			page, err = webRun[Page[LiveStream]](w, f.List, q, nil)
			for _, s := range page.Items {
				rows = append(rows, streamRow{ID: s.ID, Kind: s.Kind, Name: s.Name, Category: categoryName(cats, s.CategoryID),
					EPGChannelID: derefString(s.EPGChannelID), Sources: len(s.Sources), TestURL: firstTestURL(s.Sources),
					Enabled: s.Enabled, AlwaysOn: s.AlwaysOn})
			}
			next = page.NextCursor
		} else {
			var page Page[Movie]
			page, err = webRun[Page[Movie]](w, f.List, q, nil)
			for _, m := range page.Items {
				rows = append(rows, streamRow{ID: m.ID, Kind: "movie", Name: m.Name, Category: categoryName(cats, m.CategoryID),
					Sources: len(m.Sources), TestURL: firstTestURL(m.Sources), Enabled: m.Enabled})
			}
			next = page.NextCursor
		}
		if err != nil && !v.refused(err) {
			return err
		}
		d.listData = webList(Page[streamRow]{Items: rows, NextCursor: next}, q, f.Path())
		v.Data = d
		v.Notice = notice(w.c, streamNotices)
		return a.render(w.c, "streams", v)
	}
}

func firstTestURL(srcs []Source) string {
	for _, s := range srcs {
		if u := testURL(s.URL); u != "" {
			return u
		}
	}
	return ""
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// sourceRows are the rows of a stream's form: srcs in order, and one blank row to add one.
func sourceRows(srcs []Source) []sourceRow {
	out := make([]sourceRow, 0, len(srcs)+1)
	for i, s := range srcs {
		out = append(out, sourceRow{Index: i, URL: s.URL, Kind: s.Kind, TestURL: testURL(s.URL)})
	}
	return append(out, sourceRow{Index: len(srcs)})
}

// postedSources reads the rows of a posted form back, in the order their position fields
// ask (sources[i].pos; ties keep the page's order), as the form posts them to the operation:
// renumbered 0, 1 … without the blank ones.
func postedSources(form url.Values) (url.Values, []Source) {
	type row struct {
		i, pos int
		vals   url.Values
	}
	var rows []row
	for i := range rowCount(form, "sources") {
		prefix := fmt.Sprintf("sources[%d].", i)
		r := row{i: i, pos: i + 1, vals: url.Values{}}
		for k, v := range form {
			if member, ok := strings.CutPrefix(k, prefix); ok {
				r.vals[member] = v
			}
		}
		if n, err := strconv.Atoi(strings.TrimSpace(r.vals.Get("pos"))); err == nil {
			r.pos = n
		}
		r.vals.Del("pos")
		if strings.TrimSpace(r.vals.Get("url")) != "" {
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return a.pos - b.pos })
	out := url.Values{}
	for k, v := range form {
		if !strings.HasPrefix(k, "sources[") {
			out[k] = v
		}
	}
	srcs := make([]Source, 0, len(rows))
	for n, r := range rows {
		for member, v := range r.vals {
			out[fmt.Sprintf("sources[%d].%s", n, member)] = v
		}
		srcs = append(srcs, Source{URL: strings.TrimSpace(r.vals.Get("url")), Kind: r.vals.Get("kind")})
	}
	return out, srcs
}

// playerURL is the URL players open for stream id of family f, credentials as placeholders.
func (a *API) playerURL(f streamFamily, id int64, ext string) string {
	host := a.d.Config.PublicHost
	if port := a.d.Config.AdvertisedPort(); port != 0 {
		host = net.JoinHostPort(host, strconv.Itoa(port))
	}
	kind := "live"
	if !f.Live() {
		kind = "movie"
	}
	return fmt.Sprintf("%s://%s/%s/USERNAME/PASSWORD/%d.%s", a.d.Config.PublicScheme, host, kind, id, ext)
}

// streamFormView is the view of the form of stream cur (nil: a new one) with rows.
func (a *API) streamFormView(w *webCall, f streamFamily, title string, d streamForm) (*view, error) {
	cats, err := a.categoriesFor(w, f)
	if err != nil {
		return nil, err
	}
	d.Family, d.Categories, d.Can = f, cats, w.can(f.Create, f.Update, f.Delete)
	return w.view(title, f.Nav, d), nil
}

func (a *API) streamNewPage(f streamFamily) func(*webCall) error {
	return func(w *webCall) error {
		if !w.may(f.Create) {
			return a.forbidden(w)
		}
		v, err := a.streamFormView(w, f, f.NewTitle, streamForm{Kind: "live", Sources: sourceRows(nil), Cur: streamValues{Enabled: true}})
		if err != nil {
			return err
		}
		return a.render(w.c, "stream_edit", v)
	}
}

func (a *API) streamCreate(f streamFamily) func(*webCall) error {
	return func(w *webCall) error {
		form, srcs := postedSources(formValues(w.c))
		var id int64
		var err error
		if f.Live() {
			var s LiveStream
			s, err = webSubmitForm[LiveStream](w, f.Create, form)
			id = s.ID
		} else {
			var m Movie
			m, err = webSubmitForm[Movie](w, f.Create, form)
			id = m.ID
		}
		if err != nil {
			return a.refusedOn(w, "stream_edit", f.Title, f.Nav, err, func() (*view, error) {
				return a.streamFormView(w, f, f.NewTitle, streamForm{Kind: form.Get("kind"), Sources: sourceRows(srcs), Cur: streamValues{Enabled: true}})
			})
		}
		return w.c.Redirect(fmt.Sprintf("%s/%d?done=created", f.Path(), id), fiber.StatusSeeOther)
	}
}

// current reads stream :id of family f for its form, and the form's title.
func (a *API) current(w *webCall, f streamFamily) (streamForm, string, error) {
	if f.Live() {
		s, err := webRun[LiveStream](w, f.Get, nil, nil)
		d := streamForm{ID: s.ID, Kind: s.Kind, Sources: sourceRows(s.Sources), Cur: liveValues(s),
			PlayerURL: a.playerURL(f, s.ID, "ts")}
		return d, "Channel " + s.Name, err
	}
	m, err := webRun[Movie](w, f.Get, nil, nil)
	d := streamForm{ID: m.ID, Kind: "movie", Sources: sourceRows(m.Sources), Cur: movieValues(m),
		PlayerURL: a.playerURL(f, m.ID, m.ContainerExtension)}
	return d, "Movie " + m.Name, err
}

func (a *API) streamPage(f streamFamily) func(*webCall) error {
	return func(w *webCall) error {
		d, title, err := a.current(w, f)
		if err != nil {
			return a.failed(w, f.Title, f.Nav, err)
		}
		v, err := a.streamFormView(w, f, title, d)
		if err != nil {
			return err
		}
		v.Notice = notice(w.c, streamNotices)
		return a.render(w.c, "stream_edit", v)
	}
}

func (a *API) streamUpdate(f streamFamily) func(*webCall) error {
	return func(w *webCall) error {
		form, srcs := postedSources(formValues(w.c))
		var err error
		if f.Live() {
			_, err = webSubmitForm[LiveStream](w, f.Update, form)
		} else {
			_, err = webSubmitForm[Movie](w, f.Update, form)
		}
		id := w.c.Params("id")
		if err == nil {
			return w.c.Redirect(f.Path()+"/"+url.PathEscape(id)+"?done=saved", fiber.StatusSeeOther)
		}
		return a.refusedOn(w, "stream_edit", f.Title, f.Nav, err, func() (*view, error) {
			d, title, gerr := a.current(w, f)
			if gerr != nil {
				return nil, gerr
			}
			d.Sources = sourceRows(srcs)
			return a.streamFormView(w, f, title, d)
		})
	}
}

func (a *API) streamDelete(f streamFamily) func(*webCall) error {
	return func(w *webCall) error {
		if _, err := webSubmit[NoContent](w, f.Delete); err != nil {
			return a.failed(w, f.Title, f.Nav, err)
		}
		return w.c.Redirect(f.Path()+"?done=deleted", fiber.StatusSeeOther)
	}
}
