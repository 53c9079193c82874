package portal

import "github.com/xtreamd/xtreamd/internal/mag"

// action is what a handler runs for an authenticated call.
type action = func(*Handler, *call) error

// content, tolerant and link make a handler of their class (deny.go).
func content(fn action) handler  { return handler{class: classContent, fn: fn} }
func tolerant(fn action) handler { return handler{class: classTolerant, fn: fn} }
func link(fn action) handler     { return handler{class: classLink, fn: fn} }

// startUp is a tolerant action a locked device may run before it proved its ids.
func startUp(fn action) handler { return handler{class: classTolerant, unverified: true, fn: fn} }

var (
	yes, none = constant(true), constant(emptyList)
	star      = constant([]map[string]string{{"id": "*", "title": "*"}})
)

// actionTable is every action the portal answers (spec §5.3–§5.7), by "type/action"; anything
// else answers unknownAction. New builds it once per Handler; it is never written after.
func actionTable() map[string]handler {
	t := stbActions()
	for k, v := range map[string]handler{
		"itv/get_genres":           content(itvGenres),
		"itv/get_all_channels":     content(itvAllChannels),
		"itv/get_ordered_list":     content(itvOrderedList),
		"itv/get_all_fav_channels": content(itvAllFavChannels),
		"itv/get_fav_ids":          content(favIDs(func(k *call) []int64 { return k.dev.Favourites.Live })),
		"itv/set_fav":              content(itvSetFav),
		"itv/set_last_id":          content(itvSetLastID),
		"itv/get_short_epg":        content(itvShortEPG),
		"itv/get_epg_info":         content(itvEPGInfo),
		"itv/set_fav_status":       content(none),
		"itv/create_link":          link(itvCreateLink),

		"epg/get_week":               content(epgWeek),
		"epg/get_simple_data_table":  content(epgSimpleDataTable),
		"epg/get_data_table":         content(epgDataTable),
		"epg/get_all_program_for_ch": content(epgAllProgrammes),

		"tv_archive/create_link":       link(archiveCreateLink),
		"tv_archive/get_next_part_url": content(archiveNextPart),

		"vod/get_categories":               content(vodCategories),
		"vod/get_ordered_list":             content(vodOrderedList),
		"vod/create_link":                  link(vodCreateLink),
		"vod/set_fav":                      content(vodFav(mag.FavMovie, true)),
		"vod/del_fav":                      content(vodFav(mag.FavMovie, false)),
		"vod/get_genres_by_category_alias": content(star),
		"vod/get_years":                    content(star),
		"vod/get_abc":                      content(star),

		"series/get_categories":               content(seriesCategories),
		"series/get_ordered_list":             content(seriesOrderedList),
		"series/create_link":                  link(vodCreateLink),
		"series/set_fav":                      content(vodFav(mag.FavSeries, true)),
		"series/del_fav":                      content(vodFav(mag.FavSeries, false)),
		"series/get_genres_by_category_alias": content(star),
		"series/get_years":                    content(star),
		"series/get_abc":                      content(star),

		"radio/get_ordered_list":  content(radioList(false)),
		"radio/get_all_fav_radio": content(radioList(true)),
		"radio/set_fav":           content(radioSetFav),
		"radio/get_fav_ids":       content(favIDs(func(k *call) []int64 { return k.dev.Favourites.Radio })),

		"remote_pvr/get_active_recordings": content(none),
		"tvreminder/get_all_active":        content(none),
		"media_favorites/get_all":          content(constant("")),
		"weatherco/get_current":            content(constant(false)),
		"downloads/get_all":                content(constant("")),
	} {
		t[k] = v
	}
	// Calls that only report what the box did: true.
	for _, a := range []string{"stb/set_volume", "stb/set_aspect", "stb/set_stream_error", "stb/set_screensaver_delay",
		"stb/set_playback_buffer", "stb/set_plasma_saving", "stb/set_hdmi_reaction", "stb/set_modules",
		"itv/set_played", "itv/set_claim", "vod/set_claim", "vod/set_not_ended", "vod/del_link", "vod/log",
		"series/set_claim", "series/set_not_ended", "series/del_link", "series/log",
		"tv_archive/set_played_timeshift", "tv_archive/set_played", "tv_archive/update_played_timeshift_end_time",
		"account_info/get_terms_info", "account_info/get_payment_info", "account_info/get_demo_video_parts",
		"account_info/get_agreement_info", "remote_pvr/start_record_on_stb", "remote_pvr/stop_record_on_stb",
		"downloads/save", "course/get_data"} {
		t[a] = tolerant(yes)
	}
	return t
}

// stbActions are the start-up, settings, watchdog and account actions.
func stbActions() map[string]handler {
	return map[string]handler{
		"stb/get_profile":            {class: classProfile, unverified: true, fn: stbProfile},
		"stb/do_auth":                {class: classProfile, unverified: true, fn: stbDoAuth},
		"stb/get_localization":       startUp(stbLocalization),
		"stb/get_modules":            startUp(constant(stbModules)),
		"stb/log":                    startUp(yes),
		"stb/logout":                 startUp(stbLogout),
		"stb/get_preload_images":     tolerant(none),
		"stb/get_settings_profile":   tolerant(stbSettingsProfile),
		"stb/get_locales":            tolerant(stbLocales),
		"stb/get_timezones":          tolerant(none),
		"stb/get_countries":          tolerant(none),
		"stb/get_cities":             tolerant(none),
		"stb/search_cities":          tolerant(none),
		"stb/get_storages":           tolerant(none),
		"stb/get_ad":                 tolerant(none),
		"stb/set_locale":             tolerant(stbSetLocale),
		"stb/set_parent_password":    tolerant(stbSetParentPassword),
		"watchdog/get_events":        startUp(watchdogEvents),
		"watchdog/confirm_event":     tolerant(watchdogConfirm),
		"account_info/get_main_info": tolerant(accountMainInfo),
	}
}
