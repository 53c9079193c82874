package player_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// TestPlayerAPI_GzipLargeLists: a large list answer goes gzip-encoded to a client that accepts
// gzip and decodes to the bytes a client that does not gets; the compressed answer is kept
// (the same bytes again), per list (a category's list is its own), follows a catalog change,
// and a burst of first asks all get the right answer in one form or the other. Small answers
// (the login) never vary.
func TestPlayerAPI_GzipLargeLists(t *testing.T) {
	t.Parallel()
	bs := newBenchServers(t) // the 10,000-channel line; its servers do not follow changes
	srv, err := server.New(context.Background(), server.Deps{Config: testConfig(), Log: logx.New(io.Discard, "text", slog.LevelWarn), Store: bs.st})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testkit.Serve(t, srv, ln, 20*time.Second) // as xtreamd serve runs: the catalog follows changes
	base := "http://" + ln.Addr().String()
	c := testClient(t, 4)
	get := func(t *testing.T, path, acceptEncoding string) (http.Header, []byte) {
		t.Helper()
		resp, body := fetchEncoded(t, c, base+path, acceptEncoding)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		return resp.Header, body
	}
	gunzip := testkit.Gunzip
	// same fetches path plainly and gzip-encoded and checks that the two agree.
	same := func(t *testing.T, path string) (plain, z []byte) {
		t.Helper()
		hdr, plain := get(t, path, "identity")
		if hdr.Get("Content-Encoding") != "" || hdr.Get("Vary") != "Accept-Encoding" || len(plain) < 16<<10 {
			t.Fatalf("plain: Content-Encoding %q, Vary %q, %d bytes", hdr.Get("Content-Encoding"), hdr.Get("Vary"), len(plain))
		}
		hdr, z = get(t, path, "gzip, deflate")
		if hdr.Get("Content-Encoding") != "gzip" || hdr.Get("Vary") != "Accept-Encoding" || hdr.Get("Content-Type") != "application/json" {
			t.Fatalf("gzip: Content-Encoding %q, Vary %q, Content-Type %q", hdr.Get("Content-Encoding"), hdr.Get("Vary"), hdr.Get("Content-Type"))
		}
		if !bytes.Equal(gunzip(t, z), plain) {
			t.Fatalf("%s: the gzip answer decodes to other bytes than the plain one", path)
		}
		return plain, z
	}

	all, z := same(t, bs.listPath)
	t.Logf("get_live_streams: %d bytes, %d gzip-encoded", len(all), len(z))
	if _, again := get(t, bs.listPath, "gzip"); !bytes.Equal(again, z) {
		t.Error("the second gzip answer is not the kept one")
	}
	one, _ := same(t, bs.listPath+"&category_id=1")
	if len(one) >= len(all) {
		t.Errorf("the category's list (%d bytes) is not smaller than the whole (%d)", len(one), len(all))
	}
	for _, path := range []string{bs.loginPath, bs.loginPath + "&action=get_live_categories"} {
		if hdr, _ := get(t, path, "gzip"); hdr.Get("Content-Encoding") != "" || hdr.Get("Vary") != "" {
			t.Errorf("%s: Content-Encoding %q, Vary %q; a small answer goes as it is", path, hdr.Get("Content-Encoding"), hdr.Get("Vary"))
		}
	}

	// A channel added to the line's bouquet: the kept answer goes with its snapshot.
	ctx := context.Background()
	bq, _, err := bs.st.EnsureBouquet(ctx, "All")
	if err != nil {
		t.Fatal(err)
	}
	id, err := bs.st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "Brand New Channel",
		Sources: []store.Source{{URL: "http://upstream.example/live/new.ts"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bs.st.AppendBouquetStreams(ctx, bq, []int64{id}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, b := get(t, bs.listPath, "identity"); bytes.Contains(b, []byte("Brand New Channel")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new channel never reached the list")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, z := same(t, bs.listPath); !bytes.Contains(gunzip(t, z), []byte("Brand New Channel")) {
		t.Fatal("the gzip answer after the change lacks the new channel")
	}

	// A burst of first asks for a list not compressed yet: each gets it whole, in one form.
	path := bs.listPath + "&category_id=2"
	_, want := get(t, path, "identity")
	var wg sync.WaitGroup
	var mu sync.Mutex
	forms := map[string]int{}
	for range 16 {
		wg.Go(func() {
			hdr, b := get(t, path, "gzip")
			form := "plain"
			if hdr.Get("Content-Encoding") == "gzip" {
				form, b = "gzip", gunzip(t, b)
			}
			if !bytes.Equal(b, want) {
				t.Errorf("a %s answer in the burst differs from the list", form)
			}
			mu.Lock()
			forms[form]++
			mu.Unlock()
		})
	}
	wg.Wait()
	t.Logf("burst of 16 first asks: %v", forms)
}
