package player_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// npmDir holds the pinned npm packages (package.json + package-lock.json) and the scripts that
// run them: check.mjs (@iptv/xtream-api), playlists.mjs (@iptv/playlist, @iptv/xmltv).
var npmDir = filepath.Join("..", "..", "testdata", "npm")

// TestXtreamAPIClient runs the npm client @iptv/xtream-api (pinned in testdata/npm) with its
// standardized serializer over every method against the production app on loopback: it maps
// XUI-era fields (category_ids, title, backdrop_path[0], tmdb_id …) unconditionally, so a
// missing one throws, and check.mjs also fails on any undefined, NaN or invalid-date field
// of the standardized answer. This is beside the strict Go decoding (wire_test.go): that one
// pins the XC 2.9 types, this one proves a XUI-era client gets what it reads.
//
// It needs node; without it the test skips (CI installs nodejs and npm and runs npm ci in
// testdata/npm first). Without node_modules it runs npm ci itself.
func TestXtreamAPIClient(t *testing.T) {
	t.Parallel()
	ctx, node, _, base := nodeAndServer(t)

	out, stderr, err := runScript(ctx, node, "check.mjs", base, "alice", alicePass)
	var sum struct {
		Calls    map[string]int `json:"calls"`
		Failures []string       `json:"failures"`
	}
	if jerr := json.Unmarshal(out, &sum); jerr != nil {
		t.Fatalf("check.mjs: %v (%v)\nstdout: %s\nstderr: %s", err, jerr, out, stderr)
	}
	for _, f := range sum.Failures {
		t.Error(f)
	}
	if err != nil && len(sum.Failures) == 0 {
		t.Errorf("check.mjs: %v\nstderr: %s", err, stderr)
	}
	for _, m := range []string{"getProfile", "getServerInfo", "getChannelCategories", "getMovieCategories",
		"getShowCategories", "getChannels", "getMovies", "getMovie", "getShows", "getShow", "getShortEPG", "getFullEPG"} {
		if sum.Calls[m] == 0 {
			t.Errorf("%s never ran (calls: %v)", m, sum.Calls)
		}
	}
	t.Logf("calls: %v", sum.Calls)
}

// npmInstall serializes npm ci: the tests that need node_modules run in parallel.
var npmInstall sync.Mutex

// nodeWithPackages is the node binary, with testdata/npm's pinned packages installed (npm ci
// when a package is missing); without node the test skips.
func nodeWithPackages(ctx context.Context, t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed (apt-get install -y nodejs npm)")
	}
	npmInstall.Lock()
	defer npmInstall.Unlock()
	for _, pkg := range []string{"xtream-api", "playlist", "xmltv"} {
		if _, err := os.Stat(filepath.Join(npmDir, "node_modules", "@iptv", pkg)); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatal("node is installed but npm is not, and testdata/npm lacks its node_modules: install npm or run npm ci there")
		}
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = npmDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in testdata/npm: %v\n%s", err, out)
		}
		break
	}
	return node
}

// runScript runs one of testdata/npm's scripts against the server at base with a line's
// credentials: its standard output, standard error and exit error.
func runScript(ctx context.Context, node, script, base, user, pass string) ([]byte, string, error) {
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = npmDir
	cmd.Env = append(os.Environ(), "XTREAM_URL="+base, "XTREAM_USER="+user, "XTREAM_PASS="+pass)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	return out, stderr.String(), err
}

// nodeAndServer is what a test of an npm package needs: a context bounding the scripts, node with
// the packages installed, and the fixture served on loopback (its base URL).
func nodeAndServer(t *testing.T) (context.Context, string, *fixture, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	node := nodeWithPackages(ctx, t)
	f := newFixture(t)
	return ctx, node, f, serve(t, f.srv.App(), "")
}
