package portal

// stbLocalization is stb/get_localization: the words the Stalker JavaScript client asks for by
// key (it shows the raw key for a word it does not get). Client bundles carry most of their
// own texts; these are the ones the start-up, the cut-off screen and the players show. English
// only: the keys are the protocol, the words our own.
func stbLocalization(_ *Handler, k *call) error { return writeJS(k.c, localization) }

var localization = map[string]any{
	"stb_type_not_supported":        "This set-top box model is not supported.",
	"outdated_firmware":             "Please update the firmware of your set-top box.",
	"player_limit_notice":           "The number of connections for your account is exceeded.",
	"player_access_denied":          "Access denied.",
	"player_server_error":           "Server error.",
	"player_file_missing":           "The file is missing.",
	"player_nothing_to_play":        "Nothing to play.",
	"error_channel_limit":           "The number of connections for your account is exceeded.",
	"error_channel_nothing_to_play": "This channel is not available.",
	"error_channel_link_fault":      "The channel could not be opened.",
	"error_channel_access_denied":   "Access to this channel is denied.",
	"cut_off_msg":                   "Your access to the service is suspended.",
	"authorization_problem":         "Authorization problem.",
	"connection_problem":            "Connection problem.",
	"loading":                       "Loading...",
	"no_channel_info":               "[No channel info]",
	"mbrowser_title":                "Media browser",
	"tv":                            "TV",
	"video_club":                    "Video club",
	"radio":                         "Radio",
	"settings":                      "Settings",
	"account":                       "Account",
	"epg":                           "TV guide",
	"favorites":                     "Favourites",
	"all":                           "All",
	"search":                        "Search",
	"today":                         "Today",
	"yesterday":                     "Yesterday",
	"last_week":                     "Last week",
	"season":                        "Season",
	"specials":                      "Specials",
	"unlimited":                     "Unlimited",
	"ok":                            "OK",
	"cancel":                        "Cancel",
	"yes":                           "Yes",
	"no":                            "No",
	"exit":                          "Exit",
	"reboot":                        "Reboot",
	"month_arr": []string{"January", "February", "March", "April", "May", "June", "July", "August", "September",
		"October", "November", "December"},
	"week_arr":    []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	"week_short":  []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
	"month_short": []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
}
