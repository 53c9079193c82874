package portal

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/mag"
)

// handshakeAnswer is stb/handshake's js (spec §5.3, §7 #25): the token under lowercase "token".
type handshakeAnswer struct {
	Token string `json:"token"`
}

// handshake serves stb/handshake, which authenticates nothing yet: it starts the device's
// session (mag.Devices.Handshake). Rate-limited per address; a blocked address gets "Access
// denied." before anything is looked up; an unknown or missing MAC counts as a failed login
// (MAC guessing is the portal's brute force) but gets an answer of the same shape, so the
// answer tells a scanner nothing.
func (h *Handler) handshake(c *fiber.Ctx, req *request) error {
	ctx := c.UserContext()
	if h.access.Blocked(req.clientIP) {
		return sendText(c, accessDeniedBody)
	}
	if !h.handshakes.Allow(req.clientIP, handshakeRate, handshakeBurst) {
		return writeError(c, fiber.StatusTooManyRequests, "too many requests")
	}
	offered := req.p.token
	if offered == "" {
		offered = req.cookies.Token
	}
	if req.macState != macOK {
		h.failedLogin(ctx, req)
		return writeJS(c, handshakeAnswer{Token: tokenOrNew(offered)})
	}
	tok, known, err := h.devices.Handshake(ctx, req.mac, offered)
	if err != nil {
		return h.unavailable(c, err)
	}
	if !known {
		h.failedLogin(ctx, req)
	}
	return writeJS(c, handshakeAnswer{Token: tok})
}

func tokenOrNew(offered string) string {
	if mag.ValidToken(offered) {
		return offered
	}
	return mag.NewToken()
}

// stbProfile is stb/get_profile of a line the check let through (a refused line's profile,
// status 1 with its block_msg, is answered before any action runs): the box proves its ids to
// the device lock, reports its model and firmware, and gets its profile with status 0.
func stbProfile(h *Handler, k *call) error {
	p := &k.req.p
	if ok, err := h.devices.Prove(k.ctx, k.dev, p.identity); err != nil {
		return err
	} else if !ok {
		h.failedLogin(k.ctx, k.req)
		return h.sendProfile(k, "This set-top box is not the one registered for this account.")
	}
	box := p.box
	if box.STBType == "" {
		box.STBType = k.req.model
	}
	if box.STBType != "" {
		if err := h.devices.RecordBox(k.ctx, k.dev, box); err != nil { // text the parse step checked
			return err
		}
	}
	return h.sendProfile(k, "")
}

// profile is get_profile's js (spec §5.3): the fields the stock JavaScript client and
// EStalker act on, with XC 2.9's types (the JavaScript parseInt()s the numeric strings).
// allowed_stb_types is left out on purpose: the JavaScript cuts off every box whose model is
// missing from it, even when it is empty, so no list is safer than a list that forgets one.
type profile struct {
	ID                     string         `json:"id"`
	Name                   string         `json:"name"`
	MAC                    string         `json:"mac"`
	IP                     string         `json:"ip"`
	Status                 int            `json:"status"`
	BlockMsg               string         `json:"block_msg,omitempty"`
	Blocked                string         `json:"blocked"`
	Locale                 string         `json:"locale"`
	StbLang                string         `json:"stb_lang"`
	StbType                string         `json:"stb_type"`
	Volume                 string         `json:"volume"`
	AudioOut               string         `json:"audio_out"`
	PlaybackBufferBytes    string         `json:"playback_buffer_bytes"`
	PlaybackBufferSize     string         `json:"playback_buffer_size"`
	ScreensaverDelay       string         `json:"screensaver_delay"`
	WatchdogTimeout        int            `json:"watchdog_timeout"`
	Timeslot               int            `json:"timeslot"`
	TimeslotRatio          float64        `json:"timeslot_ratio"`
	FavITVOn               string         `json:"fav_itv_on"`
	LastITVID              int64          `json:"last_itv_id"`
	ParentPassword         string         `json:"parent_password"`
	SettingsPassword       string         `json:"settings_password"`
	HLSFastStart           string         `json:"hls_fast_start"`
	TVChannelDefaultAspect string         `json:"tv_channel_default_aspect"`
	PlaybackLimit          bool           `json:"playback_limit"`
	EnablePlaybackLimit    bool           `json:"enable_playback_limit"`
	UpdateURL              string         `json:"update_url"`
	TestDownloadURL        string         `json:"test_download_url"`
	DefaultTimezone        string         `json:"default_timezone"`
	DefaultLocale          string         `json:"default_locale"`
	StoreAuthDataOnStb     bool           `json:"store_auth_data_on_stb"`
	Storages               []struct{}     `json:"storages"`
	TimezoneDiff           int            `json:"timezone_diff"`
	ShowTVChannelLogo      bool           `json:"show_tv_channel_logo"`
	ConnectionProblem      bool           `json:"enable_connection_problem_indication"`
	BufferingIndication    int            `json:"enable_buffering_indication"`
	CheckSSLCertificate    int            `json:"check_ssl_certificate"`
	AdditionalServicesOn   string         `json:"additional_services_on"`
	HDContent              string         `json:"hd_content"`
	Theme                  string         `json:"theme"`
	ClientType             string         `json:"client_type"`
	Updated                profileUpdated `json:"updated"`
	Login                  string         `json:"login"`
	Password               string         `json:"password"`
	Phone                  string         `json:"phone"`
	Aspect                 *string        `json:"aspect,omitempty"`
	CasAdditionalParams    []struct{}     `json:"cas_additional_params"`
}

type profileUpdated struct {
	ID    string `json:"id"`
	UID   string `json:"uid"`
	Anec  string `json:"anec"`
	Vclub string `json:"vclub"`
}

// sendProfile answers the device's profile: status 0, or status 1 with blockMsg when it is set.
func (h *Handler) sendProfile(k *call, blockMsg string) error {
	dev := k.dev
	pr := profile{
		ID: itoa(dev.ID), Name: itoa(dev.ID), MAC: dev.MAC.String(), IP: k.req.clientIP.String(), Blocked: "0",
		Locale: orDefault(dev.Locale, "en_GB.utf8"), StbLang: orDefault(k.req.cookies.Lang, "en"), StbType: dev.STBType,
		Volume: "70", AudioOut: "1", PlaybackBufferBytes: "0", PlaybackBufferSize: "0", ScreensaverDelay: "10",
		// XC 2.9 spreads the boxes' watchdog polls over 80–120 s.
		WatchdogTimeout: 80 + rand.IntN(41), Timeslot: 40, TimeslotRatio: 0.33333333333333,
		FavITVOn: "0", LastITVID: dev.LastChannel, ParentPassword: orDefault(dev.ParentPassword, "0000"),
		SettingsPassword: "0000", HLSFastStart: "1", TVChannelDefaultAspect: "fit",
		DefaultTimezone: h.tz.String(), DefaultLocale: "en_GB.utf8", Storages: []struct{}{},
		ShowTVChannelLogo: true, ConnectionProblem: true, BufferingIndication: 1, AdditionalServicesOn: "1",
		HDContent: "0", ClientType: "STB", Updated: profileUpdated{ID: "1", UID: itoa(dev.ID), Anec: "0", Vclub: "0"},
		CasAdditionalParams: emptyList,
	}
	if len(dev.Favourites.Live) > 0 {
		pr.FavITVOn = "1"
	}
	if blockMsg != "" {
		pr.Status, pr.BlockMsg, pr.Blocked = 1, blockMsg, "1"
	}
	return writeJS(k.c, pr)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// stbDoAuth is stb/do_auth (Ministra's login step; stalkerhek sends it): true when the session
// is good, its device passes the lock with the ids given, and — if a login is given — the line's
// own username and password are.
func stbDoAuth(h *Handler, k *call) error {
	p := &k.req.p
	ok, err := h.devices.Prove(k.ctx, k.dev, p.identity)
	switch {
	case err != nil:
		return err
	case !ok:
		h.failedLogin(k.ctx, k.req)
		return writeJS(k.c, false)
	case k.code != access.OK:
		return writeJS(k.c, false)
	case p.login == "" && p.password == "":
		return writeJS(k.c, true)
	}
	d, err := h.access.Check(k.ctx, access.Request{Who: access.Password{Username: p.login, Password: p.password},
		ClientIP: k.req.clientIP, UserAgent: k.req.userAgent, Surface: h.accessRequest(k.req).Surface})
	if err != nil {
		return err
	}
	return writeJS(k.c, d.Code == access.OK && d.Line.ID == k.line.ID)
}

// stbLogout is stb/logout: the session ends; the box handshakes again to come back.
func stbLogout(h *Handler, k *call) error {
	if err := h.devices.EndSession(k.ctx, k.dev); err != nil {
		return err
	}
	return writeJS(k.c, true)
}

// stbSetLocale is stb/set_locale: a locale the box chose ("en_GB.utf8"). Anything that is no
// locale name is answered true and not kept, as a bad PIN is: get_profile hands the locale back
// at every start of the box.
func stbSetLocale(h *Handler, k *call) error {
	if loc := k.req.p.locale; localeName(loc) {
		if err := h.devices.SetLocale(k.ctx, k.dev, loc); err != nil {
			return err
		}
	}
	return writeJS(k.c, true)
}

// localeName reports whether s is a POSIX locale name a box sends: language, then optionally
// _TERRITORY, .codeset and @modifier ("en_GB.utf8", "sr_RS@latin"), at most 32 bytes.
func localeName(s string) bool { return len(s) <= 32 && localePattern.MatchString(s) }

var localePattern = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[a-z]+)?$`)

// stbSetParentPassword is stb/set_parent_password: pass = repeat_pass, 0 to 8 digits.
func stbSetParentPassword(h *Handler, k *call) error {
	p := &k.req.p
	if p.pass != "" && p.pass == p.repeatPass {
		if err := h.devices.SetParentPassword(k.ctx, k.dev, p.pass); err != nil && !errors.Is(err, mag.ErrBadPIN) {
			return err
		}
	}
	return writeJS(k.c, true)
}

// modules is stb/get_modules's js (spec §5.3): the stock client's module names, with the ones
// xtreamd has no service for disabled.
type modules struct {
	All                []string `json:"all_modules"`
	Switchable         []string `json:"switchable_modules"`
	Disabled           []string `json:"disabled_modules"`
	Restricted         []string `json:"restricted_modules"`
	Template           string   `json:"template"`
	LauncherURL        string   `json:"launcher_url"`
	LauncherProfileURL string   `json:"launcher_profile_url"`
}

var stbModules = modules{
	All: strings.Fields(`media_browser tv vclub sclub radio apps youtube dvb tv_archive time_shift time_shift_local
		epg.reminder epg.recorder epg epg.simple audioclub downloads_dialog downloads karaoke weather.current
		widget.audio widget.radio records remotepvr pvr_local settings.parent settings.localization settings.update
		settings.playback settings.common settings.network_status settings course.nbu weather.day cityinfo horoscope
		anecdote game.mastermind account demo infoportal internet service_management logout account_menu`),
	Switchable: strings.Fields(`sclub vclub karaoke cityinfo horoscope anecdote game.mastermind`),
	Disabled: strings.Fields(`weather.current weather.day cityinfo karaoke game.mastermind records downloads remotepvr
		service_management settings.update settings.common audioclub course.nbu infoportal demo widget.audio
		widget.radio youtube apps horoscope anecdote`),
	Restricted: []string{}, Template: "default",
}

// settingsProfile is stb/get_settings_profile's js: the settings menu and the stored values.
type settingsProfile struct {
	Modules            []settingsModule `json:"modules"`
	ParentPassword     string           `json:"parent_password"`
	UpdateURL          string           `json:"update_url"`
	TestDownloadURL    string           `json:"test_download_url"`
	PlaybackBufferSize string           `json:"playback_buffer_size"`
	ScreensaverDelay   string           `json:"screensaver_delay"`
	PlasmaSaving       string           `json:"plasma_saving"`
	SpdifMode          string           `json:"spdif_mode"`
	TSEnabled          string           `json:"ts_enabled"`
	TSEnableIcon       string           `json:"ts_enable_icon"`
	TSPath             string           `json:"ts_path"`
	TSMaxLength        string           `json:"ts_max_length"`
	TSBufferUse        string           `json:"ts_buffer_use"`
	TSActionOnExit     string           `json:"ts_action_on_exit"`
	TSDelay            string           `json:"ts_delay"`
	HDMIEventReaction  string           `json:"hdmi_event_reaction"`
	PriAudioLang       string           `json:"pri_audio_lang"`
	SecAudioLang       string           `json:"sec_audio_lang"`
	PriSubtitleLang    string           `json:"pri_subtitle_lang"`
	SecSubtitleLang    string           `json:"sec_subtitle_lang"`
	ShowAfterLoading   string           `json:"show_after_loading"`
}

type settingsModule struct {
	Name string           `json:"name"`
	Sub  []settingsModule `json:"sub,omitempty"`
}

func stbSettingsProfile(_ *Handler, k *call) error {
	names := func(ns ...string) []settingsModule {
		out := make([]settingsModule, len(ns))
		for i, n := range ns {
			out[i] = settingsModule{Name: n}
		}
		return out
	}
	mods := append(names("lock", "lang", "update"),
		settingsModule{Name: "net_info", Sub: names("wired", "wireless", "speed")},
		settingsModule{Name: "video"}, settingsModule{Name: "audio"},
		settingsModule{Name: "net", Sub: names("ethernet", "wifi", "speed")})
	mods = append(mods, names("advanced", "dev_info", "reload", "internal_portal", "reboot")...)
	return writeJS(k.c, settingsProfile{Modules: mods, ParentPassword: orDefault(k.dev.ParentPassword, "0000"),
		PlaybackBufferSize: "0", ScreensaverDelay: "10", PlasmaSaving: "0", SpdifMode: "1", TSEnabled: "0",
		TSEnableIcon: "1", TSMaxLength: "3600", TSBufferUse: "cyclic", TSActionOnExit: "no_save", TSDelay: "on_pause",
		HDMIEventReaction: "1"})
}

// locale is a stb/get_locales entry.
type locale struct {
	Label    string `json:"label"`
	Value    string `json:"value"`
	Selected int    `json:"selected"`
}

func stbLocales(_ *Handler, k *call) error {
	return writeJS(k.c, []locale{{Label: "English", Value: "en_GB.utf8", Selected: 1}})
}

// constant answers a fixed js (true, [] ...).
func constant(js any) func(*Handler, *call) error {
	return func(_ *Handler, k *call) error { return writeJS(k.c, js) }
}

// emptyList is [] on the wire (a nil slice would be null).
var emptyList = []struct{}{}
