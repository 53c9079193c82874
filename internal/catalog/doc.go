// Package catalog keeps the catalog (categories, live channels, movies, series, episodes and
// bouquets) as an immutable in-memory Snapshot per catalog version, rebuilt when the database
// says the catalog changed, and answers the surfaces' questions from it without SQL: which
// streams, movies, series and categories a line's bouquets entitle it to, in bouquet order,
// and whether a stream id is in them (the NOT_IN_BOUQUET step).
//
// A Snapshot is never modified after Build, so any number of requests read it without locks
// while a newer one is being built; the Catalog swaps the pointer atomically.
//
// The snapshot holds domain values, not wire bytes: each surface renders its own shape (the
// Xtream JSON of app/player, the Stalker JSON of the portal) and keeps what is worth keeping
// per catalog version in a View, built by the refresh before the snapshot is served.
//
// How the player surfaces use this package (one snapshot per request: snap := cat.Current();
// ent := snap.Entitlement(line.BouquetIDs), the line's bouquet ids in line_bouquets order):
//
//	get_live_categories     ent.LiveCategories()
//	get_vod_categories      ent.VODCategories()
//	get_series_categories   ent.SeriesCategories()
//	get_live_streams        ent.Live(categoryID), each entry rendered once per snapshot in a
//	get_vod_streams         ent.VOD(categoryID)   View indexed by Stream.Index
//	get_series              ent.Series(categoryID), likewise by Series.Index
//	get_vod_info            ent.Stream(vodID) and Kind == movie: Info is the stored object
//	                        (always an object), the movie_data fields are on Stream
//	get_series_info         snap.Series(id) when ent.HasSeries(id): Seasons (by number, each
//	                        with Episodes by number; HasMetadata says whether a seasons row
//	                        exists), the series fields for "info"
//	get_short_epg,          snap.Stream(streamID).EPGChannelID, then epg.Guide
//	get_simple_data_table
//	stream open (step 10)   ent.Allows(streamID); the stream (Sources, DirectSource,
//	                        ContainerExtension, TVArchiveDays) from snap.Stream(streamID), or
//	                        ent.Stream(streamID) for both at once
//	get.php                 ent.Live(0), ent.VOD(0), and per ent.Series(0) the episodes of
//	                        se.Seasons: names, icons, category names, EPG ids are all here
//	xmltv.php               snap.LiveStreams() with an EPGChannelID, then epg.Guide.Export
//
// categoryID 0 means every category ("", "0" and "*" on the wire). The wire's spellings that
// every Xtream-shaped surface shares are values here (StreamType, CategoryIDString,
// DirectSourceURL, a series' RatingString); stream URLs (credentials, host) are the surface's
// to build. Slices returned by the snapshot and the entitlements are shared: never modify
// them.
package catalog
