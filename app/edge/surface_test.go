package edge

import (
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// TestRoute_SurfaceAndDeadline: Route names the surface for the error handler and bounds the
// handler's context; without a deadline the context has none.
func TestRoute_SurfaceAndDeadline(t *testing.T) {
	t.Parallel()
	app := fiber.New()
	type seen struct {
		Surface     Surface
		HasDeadline bool
		Left        time.Duration
	}
	report := func(c *fiber.Ctx) error {
		dl, ok := c.UserContext().Deadline()
		return c.JSON(seen{SurfaceOf(c), ok, time.Until(dl)})
	}
	app.Get("/p", Route(SurfacePlayerAPI, time.Minute), report)
	app.Get("/s", Route(SurfaceStream, 0), report)
	app.Get("/none", report)
	for _, tt := range []struct {
		path         string
		wantSurface  Surface
		wantDeadline bool
	}{
		{"/p", SurfacePlayerAPI, true},
		{"/s", SurfaceStream, false},
		{"/none", "", false},
	} {
		resp, err := app.Test(httptest.NewRequest(fiber.MethodGet, tt.path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		var got seen
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got.Surface != tt.wantSurface || got.HasDeadline != tt.wantDeadline {
			t.Errorf("GET %s: surface %q deadline %v, want %q %v", tt.path, got.Surface, got.HasDeadline, tt.wantSurface, tt.wantDeadline)
		}
		if got.HasDeadline && (got.Left <= 0 || got.Left > time.Minute) {
			t.Errorf("GET %s: deadline in %v, want within a minute", tt.path, got.Left)
		}
	}
}

// TestWriteError_BySurface: each surface answers an error in its own format, and a fault of
// ours never shows its text.
func TestWriteError_BySurface(t *testing.T) {
	t.Parallel()
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error { return WriteError(c, err) }})
	secret := errors.New("dial tcp 10.0.0.1: secret detail")
	for _, s := range []Surface{SurfacePlayerAPI, SurfaceGet, SurfaceXMLTV, SurfacePanelAPI, SurfaceEnigma2,
		SurfaceStream, SurfacePortal, SurfaceAdmin, SurfaceAPI, SurfacePartner} {
		app.Get("/"+string(s)+"/fault", Route(s, 0), func(*fiber.Ctx) error { return secret })
		app.Get("/"+string(s)+"/gone", Route(s, 0), func(*fiber.Ctx) error { return fiber.ErrGone })
	}
	app.Get("/plain/fault", func(*fiber.Ctx) error { return secret })
	tests := []struct {
		path, wantType, wantBody string
		wantStatus               int
	}{
		{"/player_api/fault", "", "", 500},
		{"/get/gone", "", "", 410},
		{"/stream/fault", "", "", 500},
		{"/enigma2/gone", "", "", 410},
		{"/portal/fault", "application/json", `{"js":{"error":"internal error"}}`, 500},
		{"/portal/gone", "application/json", `{"js":{"error":"Gone"}}`, 410},
		{"/api/fault", MIMEProblem, `{"title":"Internal Server Error","status":500}`, 500},
		{"/partner/gone", MIMEProblem, `{"title":"Gone","status":410,"detail":"Gone"}`, 410},
		{"/admin/fault", "text/plain; charset=utf-8", "internal error", 500},
		{"/plain/fault", "text/plain; charset=utf-8", "internal error", 500},
	}
	for _, tt := range tests {
		resp, err := app.Test(httptest.NewRequest(fiber.MethodGet, tt.path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || string(b) != tt.wantBody {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, resp.StatusCode, b, tt.wantStatus, tt.wantBody)
		}
		if tt.wantType != "" && resp.Header.Get("Content-Type") != tt.wantType {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.path, resp.Header.Get("Content-Type"), tt.wantType)
		}
	}
}

// TestWriteProblem_Field: a problem may name the request member at fault.
func TestWriteProblem_Field(t *testing.T) {
	t.Parallel()
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error {
		return WriteProblem(c, Problem{Type: "https://xtreamd.example/problems/invalid", Status: 422,
			Detail: "must be 8 characters or more", Field: "password"})
	})
	resp, err := app.Test(httptest.NewRequest(fiber.MethodGet, "/", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `{"type":"https://xtreamd.example/problems/invalid","title":"Unprocessable Entity","status":422,` +
		`"detail":"must be 8 characters or more","field":"password"}`
	if resp.StatusCode != 422 || string(b) != want || resp.Header.Get("Content-Type") != MIMEProblem {
		t.Fatalf("WriteProblem = %d %s %q, want 422 %s", resp.StatusCode, resp.Header.Get("Content-Type"), b, want)
	}
}

// TestBearerToken: the token of a Bearer Authorization header in any case, nothing for another
// scheme, an empty or an over-long token; WriteNoStore's answer is never cached.
func TestBearerToken(t *testing.T) {
	t.Parallel()
	app := fiber.New()
	app.Get("/", func(c *fiber.Ctx) error {
		tok, ok := BearerToken(c, 8)
		return WriteNoStore(c, fiber.StatusOK, map[string]any{"token": tok, "ok": ok})
	})
	for _, tt := range []struct{ header, want string }{
		{"Bearer abc", `{"ok":true,"token":"abc"}`},
		{"bearer  abc ", `{"ok":true,"token":"abc"}`},
		{"Bearer 12345678", `{"ok":true,"token":"12345678"}`},
		{"Bearer 123456789", `{"ok":false,"token":""}`},
		{"Bearer ", `{"ok":false,"token":""}`},
		{"Basic YWJjOmRlZg==", `{"ok":false,"token":""}`},
		{"Bearerabc", `{"ok":false,"token":""}`},
		{"", `{"ok":false,"token":""}`},
	} {
		req := httptest.NewRequest(fiber.MethodGet, "/", nil)
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tt.want || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" ||
			resp.Header.Get("Content-Type") != fiber.MIMEApplicationJSONCharsetUTF8 {
			t.Errorf("Authorization %q: %s (%v), want %s, not cached", tt.header, b, resp.Header, tt.want)
		}
	}
}
