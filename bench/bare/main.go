// Command bare is the baseline of bench/login.sh: a Fiber app with Fiber's defaults that
// answers GET /player_api.php with the bytes of a file (a login answer xtreamd gave) and the
// headers spec §1.1 gives every player_api.php answer (JSON, credentials allowed), and
// nothing else: no check, no log, no metrics, no request id.
//
// With a third argument it is a floor instead: the same handler behind part of the
// bookkeeping every xtreamd request pays, and no access check and no rendering.
//
//   - log: edge.Observe without metrics, so the request id and the info-level access line,
//     written to stderr through logx.Writer as `xtreamd serve` writes it;
//   - observe: edge.Observe as xtreamd mounts it (the HTTP metrics too).
//
// What separates xtreamd from a floor is the login itself; what separates a floor from bare
// is the log (and the metrics).
//
// Or a yardstick: work=N is the bare handler doing N nanoseconds of busy work per request (a
// loop calibrated at start, no clock read per request): what a given amount of handler work
// costs in throughput on this machine under the same load, whatever the work is.
//
//	go run ./bench/bare 127.0.0.1:18472 login.json [log|observe|work=N] 2>access.log
package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/logx"
)

func main() {
	floor := ""
	if len(os.Args) == 4 {
		floor = os.Args[3]
	}
	var workNS int
	if v, ok := strings.CutPrefix(floor, "work="); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "work=N: N is a positive number of nanoseconds")
			os.Exit(2)
		}
		workNS, floor = n, ""
	}
	if len(os.Args) < 3 || len(os.Args) > 4 || floor != "" && floor != "log" && floor != "observe" {
		fmt.Fprintln(os.Stderr, "usage: bare ADDR BODY_FILE [log|observe|work=N]")
		os.Exit(2)
	}
	rounds := 0
	if workNS > 0 {
		rounds = int(float64(workNS) * roundsPerNS())
	}
	body, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true, Network: fiber.NetworkTCP})
	if floor != "" {
		sink := logx.NewWriter(os.Stderr, logx.DefaultMaxPending)
		defer sink.Close()
		log := logx.New(sink, "text", slog.LevelInfo)
		var metrics *edge.Metrics // nil: Observe records none
		if floor == "observe" {
			metrics = edge.NewMetrics(prometheus.NewRegistry())
		}
		app.Use(edge.Observe(log, metrics, edge.AccessLogOptions{}))
	}
	app.Get("/player_api.php", func(c *fiber.Ctx) error {
		if rounds > 0 {
			busy(rounds)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		c.Set(fiber.HeaderAccessControlAllowCredentials, "true")
		return c.Send(body)
	})
	if err := app.Listen(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// sink seeds busy and is where it would put a result of zero, which a xorshift never gives: the
// loop's result is used, so the compiler cannot drop it, and concurrent requests write nothing shared.
var sink uint64

// busy runs n rounds of a loop the compiler cannot fold: a xorshift step each, which depends
// on the previous one.
func busy(n int) {
	x := sink | uint64(n) | 1
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	if x == 0 {
		sink = x
	}
}

// roundsPerNS measures how many rounds of busy take a nanosecond: the fastest of the runs
// made over five windows of 20 ms (the machine may be busy at start).
func roundsPerNS() float64 {
	const n = 1 << 20
	best := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		for time.Since(start) < 20*time.Millisecond {
			t := time.Now()
			busy(n)
			best = min(best, time.Since(t))
		}
	}
	return float64(n) / float64(best)
}
