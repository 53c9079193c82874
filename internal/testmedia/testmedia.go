// Package testmedia holds what the surfaces' tests need to play real media: the H.264 + AAC
// test clip (testdata/ts/README.md), a paced live upstream serving it on loopback, and
// ffprobe run as a client against a URL. Tests only; no database (that is internal/testdb).
package testmedia

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/logx"
)

// clipSeconds is the play length of clip.ts, which paces LiveOrigin.
const clipSeconds = 10

// ClipPath is the absolute path of testdata/ts/clip.ts, found from the module root above
// the test's working directory, so a test at any depth of the tree gets the same clip.
func ClipPath(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("testmedia: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "ts", "clip.ts")
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("testmedia: no go.mod above the working directory")
		}
		dir = up
	}
}

// Clip is the content of clip.ts.
func Clip(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(ClipPath(t))
	if err != nil {
		t.Fatalf("testmedia: %v", err)
	}
	return b
}

// LiveOrigin is a live MPEG-TS upstream on loopback: clip.ts over and over at any path, paced
// at speed times real time, for as long as the client reads (a probe reads its first seconds;
// the timestamps restart with each loop). It is closed when the test ends.
func LiveOrigin(t testing.TB, speed int) string {
	t.Helper()
	data := Clip(t)
	const chunk = 28 * 188
	every := clipSeconds * time.Second * chunk / time.Duration(len(data)) / time.Duration(speed)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp2t")
		rc := http.NewResponseController(w)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			for off := 0; off+chunk <= len(data); off += chunk {
				if _, err := w.Write(data[off : off+chunk]); err != nil || rc.Flush() != nil {
					return
				}
				select {
				case <-r.Context().Done():
					return
				case <-tick.C:
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// NeedFFprobe skips the test when ffprobe is not installed (CI installs it) and returns its
// path. A test that checks something after its ffprobe subtests calls it first: the
// subtests' skips would leave that check running against clients that never connected.
func NeedFFprobe(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Skip("ffprobe not installed")
	}
	return bin
}

// Codecs runs ffprobe on url, for at most limit, and returns the codec names it found joined
// by commas ("h264,aac"). The test is skipped when ffprobe is not installed.
func Codecs(t testing.TB, url string, limit time.Duration) string {
	t.Helper()
	bin := NeedFFprobe(t)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-v", "error", "-rw_timeout", "15000000",
		"-show_entries", "stream=codec_name", "-of", "csv=p=0", url).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", logx.RedactPath(url), err, out)
	}
	// Streams are listed once per program and once on their own: keep each codec once.
	var codecs []string
	for _, f := range strings.Fields(string(out)) {
		if !slices.Contains(codecs, f) {
			codecs = append(codecs, f)
		}
	}
	return strings.Join(codecs, ",")
}
