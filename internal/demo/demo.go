// Package demo loads a small, self-contained demo catalog: live channels in three categories
// that loop a bundled MPEG-TS clip, two movies, a series with two seasons, a programme guide
// around the current time for every channel, and one bouquet "Demo" holding all of it. The
// clip is embedded in the binary and written under the data directory, so the file:// source
// URLs are valid on any machine. Loading is idempotent: a second load finds everything in
// place and writes nothing.
package demo

import (
	"bytes"
	"context"
	_ "embed" // the demo clip
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/xtreamd/xtreamd/internal/source"
	"github.com/xtreamd/xtreamd/internal/store"
)

// clip is a 10 s 320x180 H.264 + AAC MPEG-TS test pattern (see README.md for how it was made).
//
//go:embed clip.ts
var clip []byte

// BouquetName is the demo bouquet's name.
const BouquetName = "Demo"

// Options say where the clip goes and what "now" is for the guide.
type Options struct {
	DataDir string           // the clip is written to ClipDir(DataDir)/clip.ts
	Now     func() time.Time // default time.Now; the guide covers Now-12h … Now+24h
}

type channel struct {
	name, epgID, category string
}

// channels of the demo, by category, in bouquet order.
func channels() []channel {
	return []channel{
		{"Demo News 24", "news24.demo", "News"},
		{"World Report TV", "worldreport.demo", "News"},
		{"Business Live", "business.demo", "News"},
		{"Sports One", "sports1.demo", "Sports"},
		{"Match Center", "matchcenter.demo", "Sports"},
		{"Motor TV", "motor.demo", "Sports"},
		{"Cartoon Club", "cartoons.demo", "Kids"},
		{"Junior Science", "science.demo", "Kids"},
		{"Story Time", "storytime.demo", "Kids"},
	}
}

// LoadCatalog loads the demo catalog and returns the id of the "Demo" bouquet. The demo line,
// device and admin are the caller's to create.
func LoadCatalog(ctx context.Context, st *store.Store, opts Options) (int64, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	src, err := writeClip(opts.DataDir)
	if err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	var bouquetID int64
	err = st.InTx(ctx, func(tx *store.Store) error {
		var err error
		bouquetID, err = loadCatalog(ctx, tx, src)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	if err := loadGuide(ctx, st, opts.Now()); err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	return bouquetID, nil
}

// ClipDir is the directory the clip is written to: <dataDir>/demo. `serve --demo` serves local
// files from it although it lies inside the data directory (source.FilesOptions.Builtin).
func ClipDir(dataDir string) string { return filepath.Join(dataDir, "demo") }

// writeClip writes the clip under dataDir unless an identical copy is there, and returns its
// file:// URL.
func writeClip(dataDir string) (string, error) {
	dir, err := filepath.Abs(ClipDir(dataDir))
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "clip.ts")
	cur, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(cur, clip):
	case err == nil || errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, clip, 0o644); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, path); err != nil {
			return "", err
		}
	default:
		return "", err
	}
	src := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
	if err := source.Check(src); err != nil { // e.g. a data dir with a control character
		return "", fmt.Errorf("clip URL: %w", err)
	}
	return src, nil
}

func loadCatalog(ctx context.Context, st *store.Store, src string) (int64, error) {
	source := []store.Source{{URL: src, Kind: store.SourceFile}}
	ids, err := loadStreams(ctx, st, source)
	if err != nil {
		return 0, err
	}
	seriesID, err := loadSeries(ctx, st, source)
	if err != nil {
		return 0, err
	}
	bouquetID, _, err := st.EnsureBouquet(ctx, BouquetName)
	if err != nil {
		return 0, err
	}
	if _, err := st.SetBouquetStreams(ctx, bouquetID, ids); err != nil {
		return 0, err
	}
	if _, err := st.SetBouquetSeries(ctx, bouquetID, []int64{seriesID}); err != nil {
		return 0, err
	}
	return bouquetID, nil
}

// loadStreams loads the live channels and the movies with their categories and returns their
// ids in bouquet order.
func loadStreams(ctx context.Context, st *store.Store, source []store.Source) ([]int64, error) {
	liveCats, _, err := st.EnsureCategories(ctx, store.KindLive, []string{"News", "Sports", "Kids"})
	if err != nil {
		return nil, err
	}
	movieCats, _, err := st.EnsureCategories(ctx, store.KindMovie, []string{"Demo Movies"})
	if err != nil {
		return nil, err
	}
	var items []store.StreamInput
	for _, c := range channels() {
		cat, epgID := liveCats[c.category], c.epgID
		items = append(items, store.StreamInput{Kind: store.KindLive, Name: c.name, CategoryID: &cat,
			EPGChannelID: &epgID, Sources: source})
	}
	movieCat, ts := movieCats["Demo Movies"], "ts"
	for _, m := range movies() {
		items = append(items, store.StreamInput{Kind: store.KindMovie, Name: m.name, CategoryID: &movieCat,
			ContainerExtension: &ts, Info: m.info, Sources: source})
	}
	// The demo's entries all loop one file, so they are matched by name, not by source.
	res, err := st.ImportStreams(ctx, store.MatchByName, items)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	return ids, nil
}

// loadSeries loads "The Demo Show", its two seasons and their episodes, and returns its id.
func loadSeries(ctx context.Context, st *store.Store, source []store.Source) (int64, error) {
	seriesCats, _, err := st.EnsureCategories(ctx, store.KindSeries, []string{"Demo Series"})
	if err != nil {
		return 0, err
	}
	seriesCat := seriesCats["Demo Series"]
	seriesID, _, err := st.UpsertSeries(ctx, store.SeriesInput{
		Name: "The Demo Show", CategoryID: &seriesCat,
		Plot: "Two engineers build an IPTV panel from scratch and test it on a colourful test pattern.",
		Cast: "Ada Tester, Bob Builder", Director: "C. Pattern", Genre: "Comedy / Documentary",
		ReleaseDate: ptr(time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)), Rating: 7, EpisodeRunTime: 1,
		BackdropPaths: []string{},
	})
	if err != nil {
		return 0, err
	}
	for _, sn := range []store.Season{
		{SeriesID: seriesID, SeasonNumber: 1, Name: "Season 1", Overview: "The panel boots.",
			AirDate: ptr(time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)), VoteAverage: 7},
		{SeriesID: seriesID, SeasonNumber: 2, Name: "Season 2", Overview: "The panel scales.",
			AirDate: ptr(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)), VoteAverage: 7.5},
	} {
		if _, err := st.UpsertSeason(ctx, sn); err != nil {
			return 0, err
		}
	}
	return seriesID, loadEpisodes(ctx, st, seriesID, source)
}

// loadEpisodes loads the episodes of the demo series, by season.
func loadEpisodes(ctx context.Context, st *store.Store, seriesID int64, source []store.Source) error {
	episodes := map[int32][]string{
		1: {"Pilot", "The Handshake", "Bouquets"},
		2: {"Ten Thousand Channels", "Failover"},
	}
	ts := "ts"
	for season := int32(1); season <= 2; season++ {
		for i, title := range episodes[season] {
			n := int32(i + 1)
			info, _ := json.Marshal(map[string]any{
				"plot": fmt.Sprintf("Season %d, episode %d: %s.", season, n, title), "releasedate": "2024-09-01",
				"duration_secs": 10, "duration": "00:00:10", "rating": 7, "bitrate": 340, "movie_image": "",
			})
			_, _, err := st.UpsertEpisode(ctx, store.EpisodeInput{SeriesID: seriesID, SeasonNumber: season, EpisodeNumber: n,
				Stream: store.StreamInput{Name: fmt.Sprintf("The Demo Show - S%02dE%02d - %s", season, n, title),
					ContainerExtension: &ts, Info: info, Sources: source}})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

type movie struct {
	name string
	info json.RawMessage
}

// movies returns the two demo movies with get_vod_info metadata (spec §1.7).
func movies() []movie {
	mk := func(name, plot, genre, release string, rating float64) movie {
		info, _ := json.Marshal(map[string]any{
			"tmdb_id": 0, "name": name, "o_name": name, "cover_big": "", "movie_image": "",
			"releasedate": release, "release_date": release, "episode_run_time": 1, "youtube_trailer": "",
			"director": "C. Pattern", "actors": "Ada Tester, Bob Builder", "cast": "Ada Tester, Bob Builder",
			"description": plot, "plot": plot, "age": "", "mpaa_rating": "G", "rating_count_kinopoisk": 0,
			"country": "XT", "genre": genre, "backdrop_path": []string{}, "duration_secs": 10, "duration": "00:00:10",
			"bitrate": 340, "rating": rating,
			"video": map[string]any{"codec_name": "h264", "width": 320, "height": 180},
			"audio": map[string]any{"codec_name": "aac", "channels": 1},
		})
		return movie{name: name, info: info}
	}
	return []movie{
		mk("Test Pattern: The Movie", "A lone test pattern crosses the airwaves in search of a receiver.", "Drama", "2024-05-01", 7.8),
		mk("Return of the Sine Wave", "At 440 Hz, one tone holds the line against the static.", "Sci-Fi, Music", "2025-01-15", 6.9),
	}
}

func ptr[T any](v T) *T { return &v }
