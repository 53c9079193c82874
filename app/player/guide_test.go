package player_test

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/testkit"
)

// TestXMLTV_Golden: xmltv.php lists the line's channels with a guide (bob sees Extra's too)
// and their programmes in the prev_days/next_days window, times with explicit offsets
// (spec §3.2, §6.4).
func TestXMLTV_Golden(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		name, user, pass string
		extra            []string
	}{
		{"alice", "alice", alicePass, nil},
		{"bob", "bob", bobPass, nil},
		{"alice_window", "alice", alicePass, []string{"prev_days", "0", "next_days", "0"}},
		{"alice_wide", "alice", alicePass, []string{"prev_days", "999999999999999999999", "next_days", "x"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, hdr, body := f.get(t, api("/xmltv.php", append([]string{"username", tt.user, "password", tt.pass}, tt.extra...)...))
			if code != 200 || hdr.Get("Content-Type") != "application/xml; charset=utf-8" {
				t.Fatalf("status %d, Content-Type %q", code, hdr.Get("Content-Type"))
			}
			requireWellFormedXML(t, body)
			golden(t, "xmltv_"+tt.name+".golden.xml", body)
		})
	}
	_, _, body := f.get(t, api("/xmltv.php", "username", "alice", "password", alicePass))
	if bytes.Contains(body, []byte("hidden.test")) {
		t.Error("alice's guide holds a channel outside her bouquets")
	}
}

// TestXMLTV_GzipAndAliases: gzip=1 and XUI's aliases (spec §3.2) serve the same document as
// xmltv.php: /epg/{u}/{p} as it is, gzip=1 and /epg/{u}/{p}/gz as a gzip file (octet-stream,
// named epg.xml.gz, no Content-Encoding) that decompresses to it byte for byte; gzip with
// another value is the plain document. A client whose Accept-Encoding allows gzip gets the
// document gzip-encoded (Content-Encoding), any other the bytes as they are. Wrong credentials
// are an empty 401 on every form.
func TestXMLTV_GzipAndAliases(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, _, want := f.get(t, api("/xmltv.php", "username", "bob", "password", bobPass))
	requireWellFormedXML(t, want)
	// How the answer comes: the document as it is, a gzip file (gzip=1), or the document
	// gzip-encoded for a client that accepts it.
	const (
		asIs = iota
		gzipFile
		encoded
	)
	bobGuide := "/epg/bob/" + url.PathEscape(bobPass)
	for _, tt := range []struct {
		name, target, acceptEncoding string
		as                           int
	}{
		{"gzip=1", api("/xmltv.php", "username", "bob", "password", bobPass, "gzip", "1"), "", gzipFile},
		{"gzip=0", api("/xmltv.php", "username", "bob", "password", bobPass, "gzip", "0"), "", asIs},
		{"gzip=yes", api("/xmltv.php", "username", "bob", "password", bobPass, "gzip", "yes"), "", asIs},
		{"/epg alias", bobGuide, "", asIs},
		{"/epg/gz alias", bobGuide + "/gz", "", gzipFile},
		{"/epg alias with gzip=1", bobGuide + "?gzip=1", "", gzipFile},
		{"Accept-Encoding gzip", api("/xmltv.php", "username", "bob", "password", bobPass), "gzip, deflate", encoded},
		{"Accept-Encoding gzip on the alias", bobGuide, "br;q=1, gzip;q=0.5", encoded},
		{"Accept-Encoding gzip;q=0", api("/xmltv.php", "username", "bob", "password", bobPass), "gzip;q=0, *", asIs},
		{"Accept-Encoding identity", api("/xmltv.php", "username", "bob", "password", bobPass), "identity", asIs},
		{"gzip=1 and Accept-Encoding gzip", bobGuide + "/gz", "gzip", gzipFile}, // the file, not encoded twice
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var hdrs map[string]string
			if tt.acceptEncoding != "" {
				hdrs = map[string]string{"Accept-Encoding": tt.acceptEncoding}
			}
			code, hdr, body := f.do(t, "GET", tt.target, nil, hdrs)
			if code != 200 {
				t.Fatalf("status %d", code)
			}
			if v := hdr.Get("Vary"); v != "Accept-Encoding" {
				t.Errorf("Vary %q, want Accept-Encoding", v)
			}
			wantCT, wantCE, wantCD := "application/xml; charset=utf-8", "", ""
			switch tt.as {
			case gzipFile:
				wantCT, wantCD = "application/octet-stream", `attachment; filename="epg.xml.gz"`
			case encoded:
				wantCE = "gzip"
			}
			if ct, ce, cd := hdr.Get("Content-Type"), hdr.Get("Content-Encoding"), hdr.Get("Content-Disposition"); ct != wantCT || ce != wantCE || cd != wantCD {
				t.Errorf("Content-Type %q, Content-Encoding %q, Content-Disposition %q; want %q, %q, %q", ct, ce, cd, wantCT, wantCE, wantCD)
			}
			if tt.as == asIs {
				if !bytes.Equal(body, want) {
					t.Fatalf("the document differs from xmltv.php's:\n%s", clip(body))
				}
				return
			}
			if got := testkit.Gunzip(t, body); !bytes.Equal(got, want) {
				t.Fatalf("the gzip stream holds another document:\n%s", clip(got))
			}
		})
	}
	for _, target := range []string{
		api("/xmltv.php", "username", "bob", "password", "wrong", "gzip", "1"),
		"/epg/bob/wrong", "/epg/bob/wrong/gz",
	} {
		if code, _, body := f.get(t, target); code != 401 || len(body) != 0 {
			t.Errorf("%s: status %d, %d bytes; want an empty 401", target, code, len(body))
		}
	}
}

func requireWellFormedXML(t testing.TB, body []byte) {
	t.Helper()
	if !wellFormed(body) {
		t.Fatalf("malformed XML:\n%s", clip(body))
	}
}

func wellFormed(body []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
}

// TestPanelAPI_Golden: panel_api.php's one-call answer (spec §3.3) and its get_epg action.
func TestPanelAPI_Golden(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		name   string
		params []string
		decode func(testing.TB, []byte)
	}{
		{"alice", []string{"username", "alice", "password", alicePass}, decodeAs[Panel]()},
		{"bob", []string{"username", "bob", "password", bobPass}, decodeAs[Panel]()},
		{"get_epg", []string{"username", "alice", "password", alicePass, "action", "get_epg", "stream_id", newsOne, "from_now", "1"}, decodeAs[[]EPGRow]()},
		{"get_epg_not_entitled", []string{"username", "alice", "password", alicePass, "action", "get_epg", "stream_id", hiddenChannel}, decodeAs[[]EPGRow]()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, hdr, body := f.get(t, api("/panel_api.php", tt.params...))
			if code != 200 || hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q", code, hdr.Get("Content-Type"))
			}
			tt.decode(t, body)
			golden(t, "panel_api_"+tt.name+".golden.json", body)
		})
	}
	_, _, body := f.get(t, api("/panel_api.php", "username", "alice", "password", alicePass))
	requireKinds(t, body, map[string]string{
		"categories": "object", "categories.live": "array", "available_channels": "object",
		"available_channels.1.stream_id": "string", "available_channels.1.num": "number",
		"available_channels.1.series_no": "null", "user_info.auth": "number",
	})
}

// TestEnigma2_Golden walks enigma2.php's menu tree (spec §3.4): root, category menus, stream
// lists with now/next in live titles, series → seasons → episodes.
func TestEnigma2_Golden(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		name   string
		params []string
	}{
		{"root", nil},
		{"live_categories", []string{"type", "get_live_categories"}},
		{"vod_categories", []string{"type", "get_vod_categories"}},
		{"series_categories", []string{"type", "get_series_categories"}},
		{"live_streams", []string{"type", "get_live_streams", "cat_id", "0"}},
		{"live_streams_news", []string{"type", "get_live_streams", "cat_id", "1"}},
		{"vod_streams", []string{"type", "get_vod_streams"}},
		{"series", []string{"type", "get_series", "cat_id", "0"}},
		{"seasons", []string{"type", "get_seasons", "series_id", showOne}},
		{"series_streams", []string{"type", "get_series_streams", "series_id", showOne, "season", "1"}},
		{"seasons_not_entitled", []string{"type", "get_seasons", "series_id", hiddenShow}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, hdr, body := f.get(t, api("/enigma2.php", append([]string{"username", "bob", "password", bobPass}, tt.params...)...))
			if code != 200 || hdr.Get("Content-Type") != "application/xml; charset=utf-8" {
				t.Fatalf("status %d, Content-Type %q", code, hdr.Get("Content-Type"))
			}
			requireWellFormedXML(t, body)
			requireBase64Titles(t, body)
			golden(t, "enigma2_"+tt.name+".golden.xml", body)
		})
	}
}

// requireBase64Titles: every <title> and <description> is standard base64 (spec §3.4).
func requireBase64Titles(t testing.TB, body []byte) {
	t.Helper()
	var items struct {
		Channels []struct {
			Title       string `xml:"title"`
			Description string `xml:"description"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(body, &items); err != nil {
		t.Fatal(err)
	}
	for _, c := range items.Channels {
		for _, s := range []string{c.Title, c.Description} {
			if _, err := base64.StdEncoding.Strict().DecodeString(strings.TrimSpace(s)); err != nil {
				t.Errorf("not base64: %q", s)
			}
		}
	}
}
