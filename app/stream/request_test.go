package stream

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/token"
)

// parsed runs one request through a bare app whose routes call parse and keep what it
// returned; the request's buffers are gone by the time the caller looks at it.
func parsed[T any](t *testing.T, pattern, target string, hdr map[string]string, parse func(c *fiber.Ctx) (T, int)) (T, int) {
	t.Helper()
	var got T
	var refuse int
	app := fiber.New()
	app.Get(pattern, func(c *fiber.Ctx) error {
		got, refuse = parse(c)
		return nil
	})
	req := httptest.NewRequest(fiber.MethodGet, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return got, refuse
}

// TestParseShift_Forms: the three catch-up forms parse to the same request, and each refuses
// with its own status.
func TestParseShift_Forms(t *testing.T) {
	t.Parallel()
	h := &Handler{d: Deps{Location: time.UTC}}
	start := time.Date(2024, 1, 31, 9, 5, 0, 0, time.UTC)
	routes := map[shiftForm]string{
		shiftPath: "/timeshift/:user/:pass/:minutes/:start/:file",
		shiftMAG:  "/timeshifts/:user/:pass/:minutes/:id/:file",
		shiftPHP:  "/streaming/timeshift.php",
	}
	type out struct {
		Who     access.Identity
		ID      int64
		Start   time.Time
		Minutes int
		Format  string
		TSURL   string
		Range   string
		Refuse  int
	}
	pw := access.Password{Username: "u1", Password: "p 1"}
	tests := []struct {
		name   string
		form   shiftForm
		target string
		want   out
	}{
		{"path ts", shiftPath, "/timeshift/u1/p%201/90/2024-01-31:09-05/42.ts",
			out{Who: pw, ID: 42, Start: start, Minutes: 90, Format: formatTS, Range: "bytes=0-"}},
		{"path m3u8 keeps the ts form", shiftPath, "/timeshift/u1/p%201/90/2024-01-31:09-05/42.m3u8?x=1",
			out{Who: pw, ID: 42, Start: start, Minutes: 90, Format: formatHLS, TSURL: "/timeshift/u1/p%201/90/2024-01-31:09-05/42.ts?x=1", Range: "bytes=0-"}},
		{"MAG order", shiftMAG, "/timeshifts/u1/p%201/90/42/2024-01-31:09-05.ts",
			out{Who: pw, ID: 42, Start: start, Minutes: 90, Format: formatTS, Range: "bytes=0-"}},
		{"php", shiftPHP, "/streaming/timeshift.php?username=u1&password=p%201&stream=42.ts&start=2024-01-31:09-05&duration=90",
			out{Who: pw, ID: 42, Start: start, Minutes: 90, Format: formatTS, Range: "bytes=0-"}},
		{"play token", shiftPath, "/timeshift/x/x/90/2024-01-31:09-05/42.ts?play_token=AbC-_9",
			out{Who: access.PlayToken{Token: "AbC-_9", Kind: token.KindTimeshift}, ID: 42, Start: start, Minutes: 90, Format: formatTS, Range: "bytes=0-"}},
		{"php without credentials", shiftPHP, "/streaming/timeshift.php?stream=42&start=2024-01-31:09-05&duration=90",
			out{Refuse: 401}},
		{"php bad play token", shiftPHP, "/streaming/timeshift.php?play_token=%25%25&stream=42&start=2024-01-31:09-05&duration=90",
			out{Refuse: 404}},
		{"php hls", shiftPHP, "/streaming/timeshift.php?username=u1&password=p&stream=42.m3u8&start=2024-01-31:09-05&duration=90",
			out{Refuse: 404}},
		{"php bad duration before credentials", shiftPHP, "/streaming/timeshift.php?stream=42&start=2024-01-31:09-05&duration=0",
			out{Refuse: 404}},
		{"path bad play token", shiftPath, "/timeshift/u1/p/90/2024-01-31:09-05/42.ts?play_token=%25%25", out{Refuse: 404}},
		{"path bad start", shiftPath, "/timeshift/u1/p/90/yesterday/42.ts", out{Refuse: 404}},
		{"MAG bad id", shiftMAG, "/timeshifts/u1/p/90/x/2024-01-31:09-05.ts", out{Refuse: 404}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := parsed(t, routes[tt.form], tt.target, map[string]string{"Range": "bytes=0-", "User-Agent": "VLC"},
				func(c *fiber.Ctx) (out, int) {
					r, refuse := h.parseShift(c, tt.form)
					if refuse != 0 {
						return out{Refuse: refuse}, refuse
					}
					return out{Who: r.who, ID: r.id, Start: r.start, Minutes: r.minutes, Format: r.format,
						TSURL: r.tsURL, Range: r.rng}, 0
				})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseShift(%s) (-want +got):\n%s", tt.target, diff)
			}
		})
	}
}

// TestParseVOD_Owned: the VOD parse step copies what it keeps: identity, extension and Range
// survive the request.
func TestParseVOD_Owned(t *testing.T) {
	t.Parallel()
	h := &Handler{}
	got, ok := parsed(t, "/movie/:user/:pass/:file", "/movie/u%2F1/p1/7.MKV", map[string]string{"Range": "bytes=5-", "User-Agent": "Kodi"},
		func(c *fiber.Ctx) (vodRequest, int) {
			r, ok := h.parseVOD(c, token.KindVOD)
			if !ok {
				return r, 404
			}
			return r, 0
		})
	if ok != 0 || got.who != (access.Password{Username: "u/1", Password: "p1"}) || got.id != 7 || got.ext != "mkv" ||
		got.rng != "bytes=5-" || got.client.ua != "Kodi" || got.kind != token.KindVOD {
		t.Fatalf("parseVOD = %+v, %d", got, ok)
	}
}
