package portal

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/mag"
)

// The seeds are the requests real clients send (the MAG250's get_profile, stalkerhek's
// handshake and create_link, EStalker's handshake with the mac parameter) and the bad bytes
// issue 11 lists; they run on every go test.
var requestSeeds = [][5]string{
	{"type=stb&action=handshake&token=&prehash=0&JsHttpRequest=1-xml", "mac=00%3A1A%3A79%3A12%3A34%3A56; stb_lang=en; timezone=Europe%2FParis", "", mag250UAForFuzz, "Model: MAG250; Link: WiFi"},
	{"type=stb&action=handshake&prehash=0&token=8A2F5C1D9E3B4A7F&JsHttpRequest=1-xml", "PHPSESSID=null; sn=0123456789ABC; mac=00:1A:79:12:34:56; stb_lang=en; timezone=Europe/Vilnius", "", "", "Model: MAG254; Link: Ethernet"},
	{"action=create_link&type=itv&cmd=ffmpeg%20http:%2F%2Flocalhost%2Fch%2F101_&JsHttpRequest=1-xml", "mac=00%3A1A%3A79%3A12%3A34%3A56", "Bearer 8A2F5C1D9E3B4A7F", "", ""},
	{"type=stb&action=handshake&token=&prehash=0&JsHttpRequest=1-xml&mac=00:1A:79:12:34:56", "", "", "", ""},
	{"type=stb&action=get_profile&sn=0123&device_id=AB&metrics=%7B%22mac%22%3A%2200%3A1A%22%7D&ver=ImageDescription%3A+0.2.18", "mac=001A79123456", "bearer   TOKEN", "", ""},
	{"type=itv&action=get_ordered_list&genre=*&p=0&sortby=name&fav=1&search=news", "mac=00-1a-79-12-34-56", "Bearer x", "", ""},
	{"type=itv&action=set_fav&fav_ch=1,2,,x,3,3,-4", "mac=bad", "Bearer x y", "", ""},
	{"type=stb&action=get_profile&sn=%00", "mac=%00", "Bearer \x00", "UA\x00", "Model: \xff"},
	{"type=%ff%fe&action=x", "mac=%ff", "", "\xff\xfe", ""},
	{"mac=00%3A1A%3A79%3A12%3A34%3A5G&type=stb&action=handshake", "mac=00:1A:79:12:34:56", "", "", ""},
	{"search=" + strings.Repeat("a", 200), "", "", strings.Repeat("u", 600), ""},
	{"p=-1&p=99999999999&size=-3&period=x&series=%00", "", "", "", ""},
}

const mag250UAForFuzz = "Mozilla/5.0 (QtEmbedded; U; Linux; C) AppleWebKit/533.3 (KHTML, like Gecko) MAG200 stbapp ver: 2 rev: 250 Safari/533.3"

// FuzzParseRequest: the parse step never panics, and what it keeps holds its invariants: text
// that PostgreSQL stores, a MAC that formats and parses back, a token a Bearer header can
// carry, non-negative counts, bounded id lists.
func FuzzParseRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	f.Fuzz(func(t *testing.T, query, cookie, auth, ua, xua string) {
		vals, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		r := parseRequest(rawRequest{get: vals.Get, cookie: cookie, auth: auth, userAgent: ua, xUserAgent: xua,
			clientIP: netip.MustParseAddr("127.0.0.1")})
		checkRequest(t, r)
	})
}

func checkRequest(t *testing.T, r request) {
	t.Helper()
	p := r.p
	texts := []string{r.typ, r.action, r.token, r.model, p.token, p.sortBy, p.search, p.idText, p.movieID, p.cmd, p.date,
		p.from, p.to, p.identity.Serial, p.identity.DeviceID, p.identity.DeviceID2, p.box.STBType, p.box.ImageVersion,
		p.box.Firmware, p.box.HWVersion, p.login, p.password, p.locale, p.pass, p.repeatPass}
	for _, s := range texts {
		if !input.Text(s, maxParamLen) {
			t.Fatalf("kept %q", s)
		}
	}
	if !utf8.ValidString(r.userAgent) || strings.IndexByte(r.userAgent, 0) >= 0 || len(r.userAgent) > maxUserAgentLen {
		t.Fatalf("user agent %q", r.userAgent)
	}
	if r.macState == macOK {
		if back, err := mag.ParseMAC(r.mac.String()); err != nil || back != r.mac {
			t.Fatalf("MAC %v does not round-trip", r.mac)
		}
	}
	if r.token != "" && !mag.ValidToken(r.token) {
		t.Fatalf("token %q", r.token)
	}
	if p.page < 0 || p.size < 0 || p.period < 0 || p.series < 0 || p.genre < 0 || p.chID < 0 || p.id < 0 || p.eventID < 0 {
		t.Fatalf("negative count in %+v", p)
	}
	if len(p.favIDs) > mag.MaxFavourites {
		t.Fatalf("%d favourites", len(p.favIDs))
	}
	seen := map[int64]bool{}
	for _, id := range p.favIDs {
		if id <= 0 || seen[id] {
			t.Fatalf("favourites %v", p.favIDs)
		}
		seen[id] = true
	}
	if len(p.search) > maxTextParamLen {
		t.Fatalf("search of %d bytes", len(p.search))
	}
}

// FuzzCmds: the create_link cmd readers and the /c/ name cleaner never panic; a vod cmd that
// parses encodes back to itself, an archive cmd names a positive stream, a clean name stays
// inside the directory.
func FuzzCmds(f *testing.F) {
	season := int32(1)
	for _, s := range []string{"ffmpeg http://localhost/ch/101_", "auto /media/1700000000_5.mpg", "/media/3:1.mpg", "12",
		vodCmd{Type: "movie", StreamID: 9, TargetContainer: "mp4"}.encode(), vodCmd{Type: "series", SeriesID: 3, SeasonNum: &season}.encode(),
		"../../etc/passwd", "a/./b/../.env", "", "%", "eyJ0eXBlIjoic2VyaWVzIiwic2Vhc29uX251bSI6LTF9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if id := channelOfCmd(s); id < 0 {
			t.Fatalf("channelOfCmd(%q) = %d", s, id)
		}
		if _, id, ok := archiveCmd(s); ok && id <= 0 {
			t.Fatalf("archiveCmd(%q) = stream %d", s, id)
		}
		if c, ok := parseVODCmd(s); ok {
			back, ok2 := parseVODCmd(c.encode())
			if !ok2 || back.Type != c.Type || back.StreamID != c.StreamID || back.SeriesID != c.SeriesID {
				t.Fatalf("parseVODCmd(%q) = %+v does not round-trip (%+v)", s, c, back)
			}
			switch {
			case c.Type == "movie" && c.StreamID > 0:
			case c.Type == "series" && c.SeriesID > 0 && c.SeasonNum != nil && *c.SeasonNum >= 0:
			default:
				t.Fatalf("parseVODCmd(%q) = %+v", s, c)
			}
		}
		if name, ok := cleanName(s); ok && (strings.HasPrefix(name, "/") || strings.Contains("/"+name+"/", "/../") || strings.Contains("/"+name, "/.") && name != ".") {
			t.Fatalf("cleanName(%q) = %q", s, name)
		}
	})
}
