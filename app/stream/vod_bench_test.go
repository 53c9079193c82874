package stream_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/testkit"
)

// BenchmarkVOD downloads a 1 MiB movie again and again, from a local file and through an http
// upstream, with the production server (access check, lease, counted body), beside a bare
// Fiber handler sending the same bytes from memory: MB/s as the client sees it and the
// process's CPU per download (client and upstream included, the same for each).
func BenchmarkVOD(b *testing.B) {
	e := setup(b, envOpts{})
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/movie.mp4", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "video/mp4")
		return c.Send(e.vodData)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(b, err)
	go func() { _ = bare.Listener(ln) }()
	b.Cleanup(func() { _ = bare.ShutdownWithTimeout(5 * time.Second) })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	b.Cleanup(client.CloseIdleConnections)
	// The client reads 256 KB at a time, so that its own share of the CPU per download is
	// small beside the server's.
	buf := make([]byte, 256<<10)
	for _, target := range []struct{ name, url string }{
		{"file", e.url("/movie/%s/%s/%d.mp4", e.line.Username, e.pass, e.movie)},
		{"http-upstream", e.url("/movie/%s/%s/%d.mkv", e.line.Username, e.pass, e.httpVOD)},
		{"bare", "http://" + ln.Addr().String() + "/movie.mp4"},
	} {
		b.Run(target.name, func(b *testing.B) {
			b.SetBytes(int64(len(e.vodData)))
			cpu0 := testkit.ProcessCPU()
			for b.Loop() {
				resp, err := client.Get(target.url)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, resp.Body, buf) // hides Discard's ReadFrom
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || n != int64(len(e.vodData)) {
					b.Fatalf("status %d, %d bytes of %d: %v", resp.StatusCode, n, len(e.vodData), err)
				}
			}
			b.ReportMetric(float64(testkit.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
