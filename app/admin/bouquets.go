package admin

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/catalog/editor"
)

// Bouquet is a package of channels and series that lines subscribe to.
type Bouquet struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Position  int32   `json:"position"`
	StreamIDs []int64 `json:"stream_ids" doc:"Live channels, radio stations and movies, in the order players list them (episodes come with their series)."`
	SeriesIDs []int64 `json:"series_ids" doc:"Series, in order."`
}

// BouquetSummary is a bouquet in a list: the sizes of its lists instead of their ids.
type BouquetSummary struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Position    int32  `json:"position"`
	StreamCount int    `json:"stream_count"`
	SeriesCount int    `json:"series_count"`
}

type newBouquet struct {
	Name      string  `json:"name" api:"required,minlen=1,maxlen=256"`
	Position  *int32  `json:"position" api:"min=0" doc:"Absent: after the last bouquet."`
	StreamIDs []int64 `json:"stream_ids" api:"maxitems=100000,min=1"`
	SeriesIDs []int64 `json:"series_ids" api:"maxitems=100000,min=1"`
}

type bouquetPatch struct {
	Name      *string  `json:"name" api:"minlen=1,maxlen=256"`
	Position  *int32   `json:"position" api:"min=0"`
	StreamIDs *[]int64 `json:"stream_ids" api:"maxitems=100000,min=1" doc:"Replaces the whole ordered list (a repeated id keeps its first place)."`
	SeriesIDs *[]int64 `json:"series_ids" api:"maxitems=100000,min=1" doc:"Replaces the whole ordered list."`
}

type bouquetList struct {
	PageQuery
	Name string `query:"name" api:"maxlen=256" doc:"Only bouquets whose name contains this, ignoring case."`
	Sort string `query:"sort" api:"enum=id|-id|position|-position|name|-name" doc:"Order (a leading - reverses it); default id."`
}

// bouquetMaxBody bounds a bouquet's body: the server's whole limit (long channel lists).
const bouquetMaxBody = 1 << 20

func (a *API) bouquetOps() []Op {
	// Resellers read bouquets (they give lines their bouquets); only admins change them.
	read := Perm{Scope: "catalog"}
	return []Op{
		{Method: fiber.MethodGet, Path: "/bouquets", ID: "listBouquets", Tag: "Bouquets", Summary: "List bouquets",
			Perm: read, Handler: Handle(a.listBouquets)},
		{Method: fiber.MethodPost, Path: "/bouquets", ID: "createBouquet", Tag: "Bouquets", Summary: "Create a bouquet",
			Perm: writePerm("catalog"), Status: fiber.StatusCreated, Errors: []int{409}, MaxBody: bouquetMaxBody,
			Handler: Handle(a.createBouquet)},
		{Method: fiber.MethodGet, Path: "/bouquets/{id}", ID: "getBouquet", Tag: "Bouquets", Summary: "Get a bouquet with its entries",
			Perm: read, Handler: Handle(a.getBouquet)},
		{Method: fiber.MethodPatch, Path: "/bouquets/{id}", ID: "updateBouquet", Tag: "Bouquets", Summary: "Change a bouquet",
			Doc:  "Sets its name, position or ordered entries. Lines holding it see the change within a second, open streams of removed channels end.",
			Perm: writePerm("catalog"), Errors: []int{409}, MaxBody: bouquetMaxBody, Handler: Handle(a.updateBouquet)},
		{Method: fiber.MethodDelete, Path: "/bouquets/{id}", ID: "deleteBouquet", Tag: "Bouquets", Summary: "Delete a bouquet",
			Doc: "Lines that held it lose it.", Perm: writePerm("catalog"), Handler: Handle(a.deleteBouquet)},
	}
}

func (a *API) listBouquets(c *Call, q bouquetList, _ NoBody) (Page[BouquetSummary], error) {
	return keysetPage(q.PageQuery, q.Sort, func(eq editor.Query) ([]BouquetSummary, error) {
		rows, err := a.d.Editor.Bouquets(c.Context(), q.Name, eq)
		return mapSlice(rows, func(b editor.BouquetSummary) BouquetSummary { return BouquetSummary(b) }), err
	}, func(b BouquetSummary, key string) editor.Cursor { return editor.BouquetSummary(b).Cursor(key) })
}

func bouquetOut(b editor.Bouquet) Bouquet { return Bouquet(b) }

func (a *API) createBouquet(c *Call, _ NoParams, in newBouquet) (Bouquet, error) {
	pos := int32(-1)
	if in.Position != nil {
		pos = *in.Position
	}
	out, err := a.d.Editor.CreateBouquet(c.Context(), c.Principal.Actor, editor.Bouquet{Name: in.Name, Position: pos,
		StreamIDs: in.StreamIDs, SeriesIDs: in.SeriesIDs})
	return bouquetOut(out), err
}

func (a *API) getBouquet(c *Call, p ByID, _ NoBody) (Bouquet, error) {
	out, err := a.d.Editor.Bouquet(c.Context(), p.ID)
	return bouquetOut(out), err
}

func (a *API) updateBouquet(c *Call, p ByID, in bouquetPatch) (Bouquet, error) {
	out, err := a.d.Editor.UpdateBouquet(c.Context(), c.Principal.Actor, p.ID, func(b *editor.Bouquet) error {
		set(&b.Name, in.Name)
		set(&b.Position, in.Position)
		set(&b.StreamIDs, in.StreamIDs)
		set(&b.SeriesIDs, in.SeriesIDs)
		return nil
	})
	return bouquetOut(out), err
}

func (a *API) deleteBouquet(c *Call, p ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Editor.DeleteBouquet(c.Context(), c.Principal.Actor, p.ID)
}
