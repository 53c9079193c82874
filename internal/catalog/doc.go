package catalog

// How the player surfaces use this package (one snapshot per request: snap := cat.Current();
// ent := snap.Entitlement(line.BouquetIDs), the line's bouquet ids in line_bouquets order):
//
//	get_live_categories     ent.LiveCategories()   → c.AppendJSON(buf) per category
//	get_vod_categories      ent.VODCategories()    → c.AppendJSON(buf)
//	get_series_categories   ent.SeriesCategories() → c.AppendJSON(buf)
//	get_live_streams        ent.Live(categoryID)   → s.AppendListJSON(buf, i+1) per stream
//	get_vod_streams         ent.VOD(categoryID)    → s.AppendListJSON(buf, i+1)
//	get_series              ent.Series(categoryID) → se.AppendListJSON(buf, i+1)
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
// categoryID 0 means every category ("", "0" and "*" on the wire). The list entries are
// pre-rendered per snapshot with the wire types of spec §1.4–§1.8, minus "num", which
// AppendListJSON writes from its argument; stream URLs (credentials, host) are the surface's
// to build. Slices returned by the snapshot and the entitlements are shared: never modify
// them.
