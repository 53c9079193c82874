package admin

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The series pages: the list; a series' page with its fields, its seasons (each a row edited
// in place, and a form for a new one) and its episodes by season; an episode's page with its
// place (season, number), file fields and sources. The operations are /api/v1/series',
// /api/v1/series/{id}/seasons' and /api/v1/series/{id}/episodes' and /api/v1/episodes'.

var seriesOpIDs = []string{"createSeries", "updateSeries", "deleteSeries", "putSeason", "deleteSeason", "createEpisode",
	"updateEpisode", "deleteEpisode"}

var seriesNotices = map[string]string{
	"created": "The series was created.", "saved": "The series was saved.", "deleted": "The series was deleted.",
	"season": "The season was saved.", "season-deleted": "The season's details were deleted (its episodes stay).",
	"episode": "The episode was saved.", "episode-deleted": "The episode was deleted.",
}

func (a *API) webSeriesRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/series", Handler: a.seriesListPage},
		{Method: fiber.MethodGet, Path: "/series/new", Handler: a.seriesNewPage},
		{Method: fiber.MethodPost, Path: "/series", Handler: a.seriesCreate},
		{Method: fiber.MethodGet, Path: "/series/:id", Handler: a.seriesPage},
		{Method: fiber.MethodPost, Path: "/series/:id", Handler: a.seriesUpdate},
		{Method: fiber.MethodPost, Path: "/series/:id/delete", Handler: a.seriesDelete},
		{Method: fiber.MethodPost, Path: "/series/:id/seasons", Handler: a.seasonPut},
		{Method: fiber.MethodPost, Path: "/series/:id/seasons/:number/delete", Handler: a.seasonDelete},
		{Method: fiber.MethodGet, Path: "/series/:id/episodes/new", Handler: a.episodeNewPage},
		{Method: fiber.MethodPost, Path: "/series/:id/episodes", Handler: a.episodeCreate},
		{Method: fiber.MethodGet, Path: "/episodes/:id", Handler: a.episodePage},
		{Method: fiber.MethodPost, Path: "/episodes/:id", Handler: a.episodeUpdate},
		{Method: fiber.MethodPost, Path: "/episodes/:id/delete", Handler: a.episodeDelete},
	}
}

// seriesListData is the series list.
type seriesListData struct {
	listData[Series]
	Categories []Category
	Can        map[string]bool
}

// CategoryName names a series' category.
func (d seriesListData) CategoryName(id *int64) string { return categoryName(d.Categories, id) }

// seriesData is a series' page: the series, its seasons and episodes.
type seriesData struct {
	Series     Series
	New        bool
	Categories []Category
	Seasons    []Season
	Episodes   []episodeRow
	Can        map[string]bool
	// EditedSeason is the season row whose change was refused (-1: none, or the new season's
	// form); it shows Posted.
	EditedSeason int32
	Posted       url.Values
}

// NewSeasonRefused reports whether the new season's form was refused (it shows the posted
// values and refusals; the rows show theirs otherwise).
func (d seriesData) NewSeasonRefused() bool { return d.Posted != nil && d.EditedSeason == newSeason }

// Rating is the series' rating as its field shows it.
func (d seriesData) Rating() string { return strconv.FormatFloat(d.Series.Rating, 'f', -1, 64) }

// SeasonValue is the value of field in season s's row: as posted when s is the refused row.
func (d seriesData) SeasonValue(s Season, field string) string {
	if d.Posted != nil && d.EditedSeason == s.SeasonNumber {
		return d.Posted.Get(field)
	}
	switch field {
	case "name":
		return s.Name
	case "air_date":
		return derefString(s.AirDate)
	case "overview":
		return s.Overview
	}
	return ""
}

// episodeRow is an episode as the series page lists it, with its test-play link.
type episodeRow struct {
	Episode
	TestURL string
}

// episodeData is an episode's page.
type episodeData struct {
	Series  Series
	Episode Episode
	Sources []sourceRow
	Info    string
	Can     map[string]bool
}

func (a *API) seriesListPage(w *webCall) error {
	q := requestQuery(w.c)
	v := w.view("Series", "/series", nil)
	cats, err := categoriesOf(w, "series")
	if err != nil && !v.refused(err) {
		return err
	}
	page, err := webRun[Page[Series]](w, "listSeries", q, nil)
	if err != nil {
		if !v.refused(err) {
			return err
		}
		page = Page[Series]{Items: []Series{}}
	}
	v.Data = seriesListData{listData: webList(page, q, "/admin/series"), Categories: cats, Can: w.can(seriesOpIDs...)}
	v.Notice = notice(w.c, seriesNotices)
	return a.render(w.c, "series_list", v)
}

// seriesView is the view of series s's page (new: the create form).
func (a *API) seriesView(w *webCall, s Series, isNew bool) (*view, error) {
	d := seriesData{Series: s, New: isNew, Can: w.can(seriesOpIDs...), EditedSeason: seriesForm}
	var err error
	if d.Categories, err = categoriesOf(w, "series"); err != nil {
		return nil, err
	}
	title := "New series"
	if !isNew {
		title = "Series " + s.Name
		seasons, err := webRun[Seasons](w, "listSeasons", nil, nil)
		if err != nil {
			return nil, err
		}
		eps, err := webRun[Episodes](w, "listEpisodes", nil, nil)
		if err != nil {
			return nil, err
		}
		d.Seasons = seasons.Items
		for _, e := range eps.Items {
			d.Episodes = append(d.Episodes, episodeRow{Episode: e, TestURL: firstTestURL(e.Sources)})
		}
	}
	return w.view(title, "/series", d), nil
}

func (a *API) seriesNewPage(w *webCall) error {
	if !w.may("createSeries") {
		return a.forbidden(w)
	}
	v, err := a.seriesView(w, Series{}, true)
	if err != nil {
		return err
	}
	return a.render(w.c, "series_edit", v)
}

func (a *API) seriesCreate(w *webCall) error {
	s, err := webSubmit[Series](w, "createSeries")
	if err != nil {
		return a.refusedOn(w, "series_edit", "Series", "/series", err, func() (*view, error) { return a.seriesView(w, Series{}, true) })
	}
	return w.c.Redirect(fmt.Sprintf("/admin/series/%d?done=created", s.ID), fiber.StatusSeeOther)
}

func (a *API) seriesPage(w *webCall) error {
	s, err := webRun[Series](w, "getSeries", nil, nil)
	if err != nil {
		return a.failed(w, "Series", "/series", err)
	}
	v, err := a.seriesView(w, s, false)
	if err != nil {
		return err
	}
	v.Notice = notice(w.c, seriesNotices)
	return a.render(w.c, "series_edit", v)
}

// seriesRefused shows the series page again after a refused change of it or of a season.
func (a *API) seriesRefused(w *webCall, err error, season int32) error {
	s, gerr := webRun[Series](w, "getSeries", nil, nil)
	if gerr != nil {
		return a.failed(w, "Series", "/series", gerr)
	}
	v, verr := a.seriesView(w, s, false)
	if verr != nil {
		return verr
	}
	if season == seriesForm {
		return a.renderForm(w, "series_edit", v, err)
	}
	if !v.refused(err) {
		return err
	}
	d := v.Data.(seriesData)
	d.EditedSeason, d.Posted = season, formValues(w.c)
	v.Data = d
	if season == newSeason {
		v.Form = d.Posted // the new season's form shows what was typed
	}
	return a.render(w.c, "series_edit", v)
}

// seriesForm and newSeason mark the refused form of a series page when it is no season's
// row: the series' own fields, or the new season's form.
const (
	seriesForm = -1
	newSeason  = -2
)

func (a *API) seriesUpdate(w *webCall) error {
	s, err := webSubmit[Series](w, "updateSeries")
	if err != nil {
		return a.seriesRefused(w, err, seriesForm)
	}
	return w.c.Redirect(fmt.Sprintf("/admin/series/%d?done=saved", s.ID), fiber.StatusSeeOther)
}

func (a *API) seriesDelete(w *webCall) error {
	if _, err := webSubmit[NoContent](w, "deleteSeries"); err != nil {
		return a.failed(w, "Series", "/series", err)
	}
	return w.c.Redirect("/admin/series?done=deleted", fiber.StatusSeeOther)
}

// seasonPut sets a season's details: an existing season's row (edited=<number>) or the new
// season's form, whose number is a field.
func (a *API) seasonPut(w *webCall) error {
	id, ok := w.pathID("id")
	if !ok {
		return a.notFound(w, "series")
	}
	form := formValues(w.c)
	row := int32(newSeason)
	if n, err := strconv.Atoi(form.Get("edited")); err == nil {
		row = int32(n)
	}
	n, err := strconv.Atoi(strings.TrimSpace(form.Get("season_number")))
	if err != nil || n < 0 || n > 10_000 {
		return a.seriesRefused(w, refuse("season_number", "a season number, 0 (specials) to 10000"), row)
	}
	if _, err := webRunWith(w, "putSeason", a.putSeason, seasonParams{ID: id, Number: int32(n)}, form); err != nil {
		return a.seriesRefused(w, err, row)
	}
	return w.c.Redirect(fmt.Sprintf("/admin/series/%d?done=season#season-%d", id, n), fiber.StatusSeeOther)
}

func (a *API) seasonDelete(w *webCall) error {
	if _, err := webSubmit[NoContent](w, "deleteSeason"); err != nil {
		return a.failed(w, "Series", "/series", err)
	}
	return w.c.Redirect("/admin/series/"+url.PathEscape(w.c.Params("id"))+"?done=season-deleted", fiber.StatusSeeOther)
}

// episodeView is the view of an episode's page (ep.ID 0: a new episode of s).
func (a *API) episodeView(w *webCall, s Series, ep Episode, srcs []Source) *view {
	title := "New episode of " + s.Name
	if ep.ID != 0 {
		title = fmt.Sprintf("%s S%02dE%02d", s.Name, ep.SeasonNumber, ep.EpisodeNumber)
	}
	return w.view(title, "/series", episodeData{Series: s, Episode: ep, Sources: sourceRows(srcs), Info: jsonForm(ep.Info),
		Can: w.can(seriesOpIDs...)})
}

func (a *API) episodeNewPage(w *webCall) error {
	if !w.may("createEpisode") {
		return a.forbidden(w)
	}
	s, err := webRun[Series](w, "getSeries", nil, nil)
	if err != nil {
		return a.failed(w, "Series", "/series", err)
	}
	next := Episode{SeasonNumber: 1, EpisodeNumber: 1, Enabled: true}
	if n, err := strconv.Atoi(w.c.Query("season")); err == nil {
		next.SeasonNumber = int32(n)
	}
	return a.render(w.c, "episode_edit", a.episodeView(w, s, next, nil))
}

func (a *API) episodeCreate(w *webCall) error {
	form, srcs := postedSources(formValues(w.c))
	ep, err := webSubmitForm[Episode](w, "createEpisode", form)
	if err != nil {
		s, gerr := webRun[Series](w, "getSeries", nil, nil)
		if gerr != nil {
			return a.failed(w, "Series", "/series", gerr)
		}
		return a.renderForm(w, "episode_edit", a.episodeView(w, s, Episode{Enabled: true}, srcs), err)
	}
	return w.c.Redirect(fmt.Sprintf("/admin/series/%d?done=episode#ep-%d", ep.SeriesID, ep.ID), fiber.StatusSeeOther)
}

// episodeAndSeries reads episode :id and its series.
func (a *API) episodeAndSeries(w *webCall) (Episode, Series, error) {
	ep, err := webRun[Episode](w, "getEpisode", nil, nil)
	if err != nil {
		return Episode{}, Series{}, err
	}
	s, err := webRunWith(w, "getSeries", a.getSeries, ByID{ID: ep.SeriesID}, url.Values{})
	return ep, s, err
}

func (a *API) episodePage(w *webCall) error {
	ep, s, err := a.episodeAndSeries(w)
	if err != nil {
		return a.failed(w, "Episode", "/series", err)
	}
	v := a.episodeView(w, s, ep, ep.Sources)
	v.Notice = notice(w.c, seriesNotices)
	return a.render(w.c, "episode_edit", v)
}

func (a *API) episodeUpdate(w *webCall) error {
	form, srcs := postedSources(formValues(w.c))
	ep, err := webSubmitForm[Episode](w, "updateEpisode", form)
	if err == nil {
		return w.c.Redirect(fmt.Sprintf("/admin/episodes/%d?done=episode", ep.ID), fiber.StatusSeeOther)
	}
	cur, s, gerr := a.episodeAndSeries(w)
	if gerr != nil {
		return a.failed(w, "Episode", "/series", gerr)
	}
	return a.renderForm(w, "episode_edit", a.episodeView(w, s, cur, srcs), err)
}

func (a *API) episodeDelete(w *webCall) error {
	ep, err := webRun[Episode](w, "getEpisode", nil, nil)
	if err == nil {
		_, err = webSubmit[NoContent](w, "deleteEpisode")
	}
	if err != nil {
		return a.failed(w, "Episode", "/series", err)
	}
	return w.c.Redirect(fmt.Sprintf("/admin/series/%d?done=episode-deleted", ep.SeriesID), fiber.StatusSeeOther)
}
