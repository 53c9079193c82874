package player

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/store"
)

// TestPlaylistBody_SizeWriteToRead: the three ways to a playlist's bytes agree for both
// types: size() is the length WriteTo writes (fasthttp sends that as Content-Length and fails
// the response on any difference), and Read, which fasthttp does not use, gives the same bytes
// to any reader (iotest.TestReader: short reads, EOF). Close frees the download slot once.
func TestPlaylistBody_SizeWriteToRead(t *testing.T) {
	t.Parallel()
	data := renderFixture()
	// Values that exercise the replacing writers: a quote and control characters in names.
	data.Streams[0].Name = "News \"1\"\tHD\x7f"
	data.Streams = append(data.Streams, store.Stream{ID: 12, Kind: "live", Name: "Archive 12", TVArchiveDays: 12,
		Enabled: true, CreatedAt: data.Streams[0].CreatedAt, Info: data.Streams[0].Info})
	data.Bouquets = []store.Bouquet{{ID: 1, Name: "All"}}
	for i, id := range []int64{10, 11, 12, 21} {
		data.BouquetStreams = append(data.BouquetStreams, store.BouquetItem{BouquetID: 1, ItemID: id, Position: int32(i)})
	}
	data.BouquetSeries = []store.BouquetItem{{BouquetID: 1, ItemID: 40}}
	snap := catalog.Build(data, catalog.BuildOptions{})
	for _, plus := range []bool{true, false} {
		released := 0
		pw := &playlistWriter{
			release: func() { released++ }, ent: snap.Entitlement([]int64{1}), plus: plus, ext: "ts",
			urls: newStreamURLs("http://tv.example:80", "u", `p"w`), log: slog.New(slog.DiscardHandler), ctx: context.Background(),
		}
		var written bytes.Buffer
		n, err := (&playlistBody{pw: pw}).WriteTo(&written)
		if err != nil || n != int64(written.Len()) || n != pw.size() {
			t.Fatalf("plus %v: WriteTo wrote %d bytes (reported %d, %v), size says %d", plus, written.Len(), n, err, pw.size())
		}
		if got := strings.Count(written.String(), "#EXTINF"); got != 5 {
			t.Fatalf("plus %v: %d entries, want 5:\n%s", plus, got, written.String())
		}
		body := &playlistBody{pw: pw}
		if err := iotest.TestReader(body, written.Bytes()); err != nil {
			t.Errorf("plus %v: Read: %v", plus, err)
		}
		body.Close()
		body.Close()
		if released != 1 {
			t.Errorf("plus %v: two Closes released the slot %d times, want once", plus, released)
		}
		// A reader stopped early (a client gone) ends Read's position with Close too.
		early := &playlistBody{pw: pw}
		if _, err := io.ReadFull(early, make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		early.Close()
		if released != 2 {
			t.Errorf("plus %v: Close after a partial read released %d slots in all, want 2", plus, released)
		}
	}
}
