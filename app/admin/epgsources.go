package admin

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/epg"
)

// EPGSource is an XMLTV guide the server fetches on its schedule (every 12 hours).
type EPGSource struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	URL           string     `json:"url"`
	Enabled       bool       `json:"enabled"`
	LastFetchedAt *time.Time `json:"last_fetched_at" doc:"The last fetch attempt; null: never."`
	LastError     string     `json:"last_error" doc:"Why the last fetch failed; empty when it worked."`
	CreatedAt     time.Time  `json:"created_at"`
}

func epgSourceOut(s epg.Source) EPGSource { return EPGSource(s) }

type newEPGSource struct {
	Name    string `json:"name" api:"required,minlen=1,maxlen=256"`
	URL     string `json:"url" api:"required,minlen=1,maxlen=4096" doc:"An http:// or https:// XMLTV URL (gzip is fine)."`
	Enabled *bool  `json:"enabled" doc:"Default true."`
}

type epgSourcePatch struct {
	Name    *string `json:"name" api:"minlen=1,maxlen=256"`
	URL     *string `json:"url" api:"minlen=1,maxlen=4096"`
	Enabled *bool   `json:"enabled"`
}

// EPGSources is every configured source.
type EPGSources struct {
	Items []EPGSource `json:"items"`
}

func (a *API) epgOps() []Op {
	return []Op{
		{Method: fiber.MethodGet, Path: "/epg-sources", ID: "listEPGSources", Tag: "EPG", Summary: "List the XMLTV sources",
			Perm: readPerm("epg"), Handler: Handle(a.listEPGSources)},
		{Method: fiber.MethodPost, Path: "/epg-sources", ID: "createEPGSource", Tag: "EPG", Summary: "Add an XMLTV source",
			Doc:  "Fetched at the next scheduled refresh, or now with POST /epg-sources/{id}/refresh.",
			Perm: writePerm("epg"), Status: fiber.StatusCreated, Errors: []int{409}, Handler: Handle(a.createEPGSource)},
		{Method: fiber.MethodGet, Path: "/epg-sources/{id}", ID: "getEPGSource", Tag: "EPG", Summary: "Get an XMLTV source",
			Perm: readPerm("epg"), Handler: Handle(a.getEPGSource)},
		{Method: fiber.MethodPatch, Path: "/epg-sources/{id}", ID: "updateEPGSource", Tag: "EPG", Summary: "Change an XMLTV source",
			Perm: writePerm("epg"), Errors: []int{409}, Handler: Handle(a.updateEPGSource)},
		{Method: fiber.MethodDelete, Path: "/epg-sources/{id}", ID: "deleteEPGSource", Tag: "EPG", Summary: "Remove an XMLTV source",
			Doc: "The guide it brought stays until it ages out.", Perm: writePerm("epg"), Handler: Handle(a.deleteEPGSource)},
		{Method: fiber.MethodPost, Path: "/epg-sources/{id}/refresh", ID: "refreshEPGSource", Tag: "EPG", Summary: "Refresh a source now",
			Doc:  "Starts an import job that fetches and merges the guide; follow it at GET /imports/{id}.",
			Perm: Perm{Scope: "imports", Write: true, Roles: adminsOnly}, Status: fiber.StatusAccepted, Errors: []int{429},
			Handler: Handle(a.refreshEPGSource)},
	}
}

func (a *API) listEPGSources(c *Call, _ NoParams, _ NoBody) (EPGSources, error) {
	rows, err := a.d.EPG.List(c.Context())
	return EPGSources{Items: mapSlice(rows, epgSourceOut)}, err
}

func (a *API) createEPGSource(c *Call, _ NoParams, in newEPGSource) (EPGSource, error) {
	out, err := a.d.EPG.Create(c.Context(), c.Principal.Actor, epg.Source{Name: in.Name, URL: in.URL,
		Enabled: in.Enabled == nil || *in.Enabled})
	return epgSourceOut(out), err
}

func (a *API) getEPGSource(c *Call, p ByID, _ NoBody) (EPGSource, error) {
	out, err := a.d.EPG.Get(c.Context(), p.ID)
	return epgSourceOut(out), err
}

func (a *API) updateEPGSource(c *Call, p ByID, in epgSourcePatch) (EPGSource, error) {
	out, err := a.d.EPG.Update(c.Context(), c.Principal.Actor, p.ID, func(s *epg.Source) error {
		set(&s.Name, in.Name)
		set(&s.URL, in.URL)
		set(&s.Enabled, in.Enabled)
		return nil
	})
	return epgSourceOut(out), err
}

func (a *API) deleteEPGSource(c *Call, p ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.EPG.Delete(c.Context(), c.Principal.Actor, p.ID)
}

func (a *API) refreshEPGSource(c *Call, p ByID, _ NoBody) (ImportJob, error) {
	j, err := a.d.Imports.RefreshSource(c.Context(), c.Principal.Actor, p.ID)
	return importJobOut(j), err
}
