package edge

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// countingLease counts its releases.
type countingLease struct{ released atomic.Int32 }

func (l *countingLease) Release(context.Context) error { l.released.Add(1); return nil }
func (l *countingLease) IDString() string              { return "lease-1" }

// TestOpens_EveryPath drives each way an open can end and checks that the outcome is recorded
// once, with the answered status, and the lease released once — by Run unless handed off.
func TestOpens_EveryPath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		fn         func(o *Open, l *countingLease, c *fiber.Ctx) error
		wantStatus int
		// wantReleased is what Run released; a handed-off lease is the writer's to release.
		wantReleased int32
	}{
		{"denied before a lease", func(o *Open, l *countingLease, c *fiber.Ctx) error {
			return Empty(c, fiber.StatusUnauthorized)
		}, 401, 0},
		{"refused after the check", func(o *Open, l *countingLease, c *fiber.Ctx) error {
			o.Hold(l)
			return Empty(c, fiber.StatusServiceUnavailable)
		}, 503, 1},
		{"range not satisfiable", func(o *Open, l *countingLease, c *fiber.Ctx) error {
			o.Hold(l)
			return Empty(c, fiber.StatusRequestedRangeNotSatisfiable)
		}, 416, 1},
		{"direct source redirect", func(o *Open, l *countingLease, c *fiber.Ctx) error {
			o.Hold(l)
			c.Set(fiber.HeaderLocation, "http://origin.example/a.ts")
			return Empty(c, fiber.StatusFound)
		}, 302, 1},
		{"handed to the writer", func(o *Open, l *countingLease, c *fiber.Ctx) error {
			o.Hold(l)
			o.Handoff()
			return c.SendString("body")
		}, 200, 0},
		{"error of ours", func(o *Open, l *countingLease, c *fiber.Ctx) error {
			o.Hold(l)
			return errors.New("signing failed")
		}, 500, 1},
		{"fiber error", func(o *Open, l *countingLease, c *fiber.Ctx) error {
			o.Hold(l)
			return fiber.ErrBadGateway
		}, 502, 1},
		{"panic", func(o *Open, l *countingLease, c *fiber.Ctx) error {
			o.Hold(l)
			panic("boom")
		}, 500, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "opens_total"}, []string{"container", "status"})
			reg := prometheus.NewRegistry()
			reg.MustRegister(vec)
			opens := NewOpens(vec, nil)
			lease := &countingLease{}
			app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error { return WriteError(c, err) }})
			app.Use(Observe(slog.New(slog.DiscardHandler), nil, AccessLogOptions{}))
			app.Get("/open", Route(SurfaceStream, 0), func(c *fiber.Ctx) error {
				return opens.Run(c, "ts", func(o *Open) error { return tt.fn(o, lease, c) })
			})
			resp, err := app.Test(httptest.NewRequest(fiber.MethodGet, "/open", nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got, want := outcomes(t, reg), map[string]float64{"ts/" + strconv.Itoa(tt.wantStatus): 1}; !maps.Equal(got, want) {
				t.Errorf("outcomes = %v, want %v", got, want)
			}
			if got := lease.released.Load(); got != tt.wantReleased {
				t.Errorf("released %d times, want %d", got, tt.wantReleased)
			}
		})
	}
}

// outcomes reads the counter as container/status → value.
func outcomes(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["container"]+"/"+labels["status"]] += m.GetCounter().GetValue()
		}
	}
	return out
}
