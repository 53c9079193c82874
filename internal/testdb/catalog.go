package testdb

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// BigCatalog is the in-memory read of a panel with n live channels in 50 categories and n/10
// movies, split over three bouquets that overlap (1 "A" and 2 "B" hold every other channel, 3
// "All" every channel in reverse; the movies are in "A"): the benchmark fixture of the catalog
// snapshot and of the surfaces that render it.
func BigCatalog(n int) store.CatalogData {
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	d := store.CatalogData{Version: 1}
	for c := range 50 {
		d.Categories = append(d.Categories, store.Category{ID: int64(c + 1), Kind: store.KindLive, Name: fmt.Sprintf("Cat %d", c), Position: int32(c)})
	}
	d.Categories = append(d.Categories, store.Category{ID: 100, Kind: store.KindMovie, Name: "Movies"})
	d.Bouquets = []store.Bouquet{{ID: 1, Name: "A"}, {ID: 2, Name: "B"}, {ID: 3, Name: "All"}}
	for i := range n {
		id, cat, epg := int64(i+1), int64(i%50+1), fmt.Sprintf("ch%d.tv", i)
		d.Streams = append(d.Streams, store.Stream{ID: id, Kind: store.KindLive, Name: fmt.Sprintf("Channel %d HD", i),
			CategoryID: &cat, Icon: fmt.Sprintf("http://logos.example.com/%d.png", i), EPGChannelID: &epg,
			Info: json.RawMessage("{}"), Enabled: true, CreatedAt: created})
		d.Sources = append(d.Sources, store.StreamSource{StreamID: id, URL: fmt.Sprintf("http://up.example.com/live/%d.ts", i), Kind: "auto"})
		d.BouquetStreams = append(d.BouquetStreams, store.BouquetItem{BouquetID: int64(i%2 + 1), ItemID: id, Position: int32(i)},
			store.BouquetItem{BouquetID: 3, ItemID: id, Position: int32(n - i)})
	}
	for i := range n / 10 {
		id, cat, ext := int64(n+i+1), int64(100), "mp4"
		d.Streams = append(d.Streams, store.Stream{ID: id, Kind: store.KindMovie, Name: fmt.Sprintf("Movie %d", i),
			CategoryID: &cat, ContainerExtension: &ext, Info: json.RawMessage(`{"rating":"6.5"}`),
			Enabled: true, CreatedAt: created})
		d.BouquetStreams = append(d.BouquetStreams, store.BouquetItem{BouquetID: 1, ItemID: id, Position: int32(n + i)})
	}
	return d
}
