package portal

import (
	"testing"

	"github.com/xtreamd/xtreamd/internal/access"
)

// TestAnswerFor_EveryCode pins the portal's answer to every check code for every class of
// action (STYLE C8): OK serves, nothing else serves content.
func TestAnswerFor_EveryCode(t *testing.T) {
	t.Parallel()
	lineRefused := map[access.Code]bool{access.UserExpired: true, access.UserBan: true, access.UserDisabled: true,
		access.IPBan: true, access.CountryDisallow: true, access.UserAgentBan: true, access.ISPLockFailed: true}
	classes := map[class]string{classProfile: "profile", classTolerant: "tolerant", classLink: "link", classContent: "content"}
	for _, code := range access.AllCodes() {
		for cl, clName := range classes {
			var want answer
			switch {
			case code == access.OK:
				want = answer{kind: answerServe}
			case code == access.AuthFailed:
				want = answer{kind: answerAuthFailed}
			case code == access.FloodBlocked:
				want = answer{kind: answerAccessDenied}
			case cl == classProfile:
				want = answer{kind: answerBlocked}
			case cl == classTolerant && lineRefused[code]:
				want = answer{kind: answerServe}
			case cl == classLink && code == access.UserAlreadyConnected:
				want = answer{kind: answerLinkError, err: "limit"}
			case cl == classLink && code == access.NotInBouquet:
				want = answer{kind: answerLinkError, err: "nothing_to_play"}
			case cl == classLink:
				want = answer{kind: answerLinkError, err: "access_denied"}
			default:
				want = answer{kind: answerAccessDenied}
			}
			if got := answerFor(code, cl); got != want {
				t.Errorf("answerFor(%s, %s) = %+v, want %+v", code, clName, got, want)
			}
			if code != access.OK && cl == classContent && answerFor(code, cl).kind == answerServe {
				t.Errorf("%s serves content", code)
			}
		}
		if code != access.OK && blockMessage(code) == "" {
			t.Errorf("blockMessage(%s) is empty", code)
		}
	}
	// A code added later fails closed.
	for cl := range classes {
		if a := answerFor(access.Code(200), cl); a.kind == answerServe {
			t.Errorf("answerFor(unknown code, %d) serves", cl)
		}
	}
}

func TestPageOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n, p, sel int
		want      page
	}{
		{0, 0, 0, page{size: 14, curPage: 1}},
		{0, 1, 0, page{size: 14}},
		{20, 1, 0, page{to: 14, size: 14}},
		{20, 2, 0, page{from: 14, to: 20, size: 14}},
		{20, 3, 0, page{from: 20, to: 20, size: 14}},
		{20, 0, 0, page{to: 14, size: 14, curPage: 1}},
		{20, 0, 14, page{to: 14, size: 14, curPage: 1, selectedItem: 14}},
		{20, 0, 15, page{from: 14, to: 20, size: 14, curPage: 2, selectedItem: 1}},
		{20, 0, 20, page{from: 14, to: 20, size: 14, curPage: 2, selectedItem: 6}},
		{5, 999999999, 0, page{from: 5, to: 5, size: 14}},
	} {
		if got := pageOf(tt.n, tt.p, tt.sel, 14); got != tt.want {
			t.Errorf("pageOf(%d, %d, %d) = %+v, want %+v", tt.n, tt.p, tt.sel, got, tt.want)
		}
	}
}

func TestChannelOfCmd(t *testing.T) {
	t.Parallel()
	for cmd, want := range map[string]int64{
		"ffmpeg http://localhost/ch/101_":                       101,
		"ffmpeg http://localhost/ch/101_http://up.example/x.ts": 101,
		"auto http://localhost/ch/7":                            7,
		"42":                                                    42,
		" 42 ":                                                  42,
		"ffmpeg http://localhost/ch/_":                          0,
		"ffmpeg http://localhost/ch/-1_":                        0,
		"ffmpeg http://tv.example/live/u/p/101.ts":              0,
		"": 0,
	} {
		if got := channelOfCmd(cmd); got != want {
			t.Errorf("channelOfCmd(%q) = %d, want %d", cmd, got, want)
		}
	}
}

func TestParseVODCmd(t *testing.T) {
	t.Parallel()
	season := int32(2)
	movie := vodCmd{Type: "movie", StreamID: 12, TargetContainer: "mkv"}
	series := vodCmd{Type: "series", SeriesID: 3, SeasonNum: &season}
	for _, tt := range []struct {
		in   string
		want vodCmd
		ok   bool
	}{
		{movie.encode(), movie, true},
		{series.encode(), series, true},
		{"12", vodCmd{Type: "movie", StreamID: 12}, true},
		{"/media/12.mpg", vodCmd{Type: "movie", StreamID: 12}, true},
		{"auto /media/3:2.mpg", series, true},
		{"/media/3:x.mpg", vodCmd{}, false},
		{"/media/0.mpg", vodCmd{}, false},
		{"eyJ0eXBlIjoidHJhaWxlciJ9", vodCmd{}, false}, // {"type":"trailer"}
		{"not base64!", vodCmd{}, false},
		{"", vodCmd{}, false},
	} {
		got, ok := parseVODCmd(tt.in)
		if ok != tt.ok || got.Type != tt.want.Type || got.StreamID != tt.want.StreamID || got.SeriesID != tt.want.SeriesID ||
			(got.SeasonNum == nil) != (tt.want.SeasonNum == nil) || (got.SeasonNum != nil && *got.SeasonNum != *tt.want.SeasonNum) {
			t.Errorf("parseVODCmd(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"": ".", "index.html": "index.html", "a/b.js": "a/b.js", "a/../b.js": "b.js", "../../x": "x", "a/": "a",
		".env": "", "a/.git/config": "", "a%2F..": "", "a\\b": "", "a\x00": "",
	} {
		got, ok := cleanName(raw)
		if (want == "") == ok || (ok && got != want) {
			t.Errorf("cleanName(%q) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}
