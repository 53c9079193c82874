package relay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/xtreamd/xtreamd/internal/relay"
)

// A net/http edge for one live channel: TS delivery, the HLS playlist and its segments. (app/stream does
// the same on fasthttp, writing TS on the hijacked connection; see the package documentation.)
func Example() {
	const slate = "/var/lib/xtreamd/slates/offline.ts"
	mgr, err := relay.NewManager(relay.Options{
		Grace: 10 * time.Second,
		// Which files a file source may read is the caller's rule (xtreamd: source.Files.Open).
		OpenFile: func(p string) (*os.File, error) {
			if p != slate {
				return nil, os.ErrPermission
			}
			return os.Open(p)
		},
	})
	if err != nil {
		panic(err)
	}
	defer mgr.Close()
	sources := []relay.Source{
		{URL: "http://origin-a.example/live/42.ts"},    // tried first
		{URL: "http://origin-b.example/42/index.m3u8"}, // then this one
		{URL: "file://" + slate},                       // last resort: a looped slate
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/live/42.ts", func(w http.ResponseWriter, r *http.Request) {
		v, err := mgr.Subscribe(r.Context(), 42, sources)
		if err != nil {
			http.Error(w, "", http.StatusServiceUnavailable)
			return
		}
		defer v.Close()
		ready, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		if err := v.WaitReady(ready); err != nil {
			w.WriteHeader(http.StatusForbidden) // spec §2.2 step 10: stream down
			return
		}
		w.Header().Set("Content-Type", "video/mp2t")
		rc := http.NewResponseController(w)
		_, err = v.WriteTo(r.Context(), w, rc.Flush)
		if errors.Is(err, relay.ErrViewerDropped) {
			fmt.Println("client too slow")
		}
	})
	mux.HandleFunc("/live/42.m3u8", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		pl, err := mgr.Playlist(ctx, 42, sources, r.RemoteAddr, func(seq uint64) string {
			return "/hls/SIGNED-TOKEN/42_" + strconv.FormatUint(seq, 10) + ".ts"
		})
		if err != nil {
			w.WriteHeader(http.StatusOK) // spec §2.3: empty 200 when not ready
			return
		}
		w.Header().Set("Content-Type", "application/x-mpegurl")
		w.Header().Set("Cache-Control", "no-store, no-cache, must-revalidate")
		w.Write(pl)
	})
	mux.HandleFunc("/hls/{token}/{seg}", func(w http.ResponseWriter, r *http.Request) {
		// Verify the token first; then:
		var seq uint64
		if _, err := fmt.Sscanf(r.PathValue("seg"), "42_%d.ts", &seq); err != nil {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		data, err := mgr.Segment(42, seq, r.RemoteAddr)
		if err != nil {
			w.WriteHeader(http.StatusForbidden) // spec §2.3: missing segment
			return
		}
		w.Header().Set("Content-Type", "video/mp2t")
		w.Write(data)
	})
	_ = mux
}
