package admin

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/panel"
)

// The dashboard: lines by state, connections and bandwidth now, the most watched streams
// (the REST API's getDashboard, a reseller's own lines for a reseller) and, for the staff, the
// whole panel's connections over the last 24 hours as a chart drawn here in SVG.

func (a *API) webDashboardRoutes() []webRoute {
	return []webRoute{{Method: fiber.MethodGet, Path: "/", Handler: a.dashboardPage}}
}

// dashboardData is the dashboard page's data.
type dashboardData struct {
	Counts Dashboard
	Chart  *chart // nil for a reseller: the samples count the whole panel
}

func (a *API) dashboardPage(w *webCall) error {
	d, err := webRun[Dashboard](w, "getDashboard", nil, nil)
	if err != nil {
		return err
	}
	data := dashboardData{Counts: d}
	if w.p.Role != accounts.RoleReseller {
		now := a.d.Now()
		pts, err := a.d.Overview.ConnectionSeries(w.c.UserContext(), now.Add(-24*time.Hour), 10*time.Minute)
		if err != nil {
			return err
		}
		data.Chart = drawChart(pts, now, a.d.Config.Timezone)
	}
	return a.render(w.c, "dashboard", w.view("Dashboard", "/", data))
}

// chart is a line chart of connections, its coordinates computed here: the template only
// places numbers into SVG attributes (no path built from data text, nothing to escape).
type chart struct {
	Width, Height int
	Line, Area    string // SVG path data: numbers and M/L/Z only
	Peak          int
	Ticks         []chartTick
	Empty         bool
	Summary       string // the chart as words, for screen readers
}

// chartTick is a labelled hour on the time axis.
type chartTick struct {
	X     int
	Label string
}

const (
	chartW, chartH = 720, 180
	chartPadX      = 30
	chartPadY      = 16
)

// drawChart lays out pts (oldest first) over the 24 hours before now.
func drawChart(pts []panel.SeriesPoint, now time.Time, loc *time.Location) *chart {
	if loc == nil {
		loc = time.UTC
	}
	c := &chart{Width: chartW, Height: chartH, Empty: len(pts) == 0}
	if len(pts) == 1 { // one sample: a short flat line rather than an invisible point
		pts = append(pts, panel.SeriesPoint{At: pts[0].At.Add(5 * time.Minute), Connections: pts[0].Connections})
	}
	start := now.Add(-24 * time.Hour)
	for _, p := range pts {
		c.Peak = max(c.Peak, p.Connections)
	}
	scale := max(c.Peak, 1)
	x := func(t time.Time) float64 {
		return chartPadX + float64(chartW-2*chartPadX)*t.Sub(start).Seconds()/(24*time.Hour).Seconds()
	}
	y := func(n int) float64 { return chartH - chartPadY - float64(chartH-2*chartPadY)*float64(n)/float64(scale) }
	for i, p := range pts {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		c.Line += fmt.Sprintf("%s%.1f %.1f ", cmd, x(p.At), y(p.Connections))
	}
	if len(pts) > 0 {
		c.Area = c.Line + fmt.Sprintf("L%.1f %d L%.1f %d Z", x(pts[len(pts)-1].At), chartH-chartPadY, x(pts[0].At), chartH-chartPadY)
	}
	for h := start.In(loc).Truncate(time.Hour).Add(time.Hour); h.Before(now); h = h.Add(time.Hour) {
		if h.Hour()%6 == 0 {
			c.Ticks = append(c.Ticks, chartTick{X: int(x(h)), Label: h.Format("15:04")})
		}
	}
	c.Summary = "Connections over the last 24 hours: at most " + strconv.Itoa(c.Peak) + " at once."
	if c.Empty {
		c.Summary = "No connection samples in the last 24 hours yet."
	}
	return c
}
