package relay

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// rapsOf runs an inspector over whole packets and returns the random access points it finds.
func rapsOf(data []byte) []rap {
	var in inspector
	var out []rap
	for i := 0; i+packetSize <= len(data); i += packetSize {
		if r, ok, _ := in.packet(data[i:i+packetSize], uint64(i)); ok {
			out = append(out, r)
		}
	}
	return out
}

// stripRAI returns a copy of data with every random_access_indicator cleared.
func stripRAI(data []byte) []byte {
	out := bytes.Clone(data)
	for i := 0; i+packetSize <= len(out); i += packetSize {
		p := out[i : i+packetSize]
		if p[3]&0x20 != 0 && p[4] > 0 {
			p[5] &^= 0x40
		}
	}
	return out
}

func TestKeyframeDetection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		clip string
		want int // keyframes: one per 2 s GOP
	}{
		{"h264", "clip.ts", 5},
		{"hevc", "clip_hevc.ts", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := clip(t, tt.clip)
			withRAI := rapsOf(data)
			if len(withRAI) != tt.want {
				t.Fatalf("random access points by RAI = %d, want %d", len(withRAI), tt.want)
			}
			for _, r := range withRAI {
				if r.pos%packetSize != 0 || !r.hasPTS {
					t.Fatalf("rap %+v: want a packet boundary and a PTS", r)
				}
			}
			// Without random_access_indicator, the NAL unit scan must find the same keyframes.
			if diff := cmp.Diff(withRAI, rapsOf(stripRAI(data)), cmp.AllowUnexported(rap{})); diff != "" {
				t.Fatalf("keyframes from NAL units differ from RAI (-rai +nal):\n%s", diff)
			}
		})
	}
}

// TestKeyframeBeforeProgram joins a stream mid-way as a cold pull does: its first keyframe comes
// before its next PAT/PMT. The keyframe is reported once the program is known, not dropped for the
// next one a GOP later.
func TestKeyframeBeforeProgram(t *testing.T) {
	t.Parallel()
	data := clip(t, "clip.ts")
	first := rapsOf(data)[0]
	var psi, rest []byte
	for i := 0; i+packetSize <= len(data); i += packetSize {
		p := data[i : i+packetSize]
		switch {
		case i < int(first.pos) && (pktPID(p) == pidPAT || len(psi) > 0 && len(psi) < 2*packetSize):
			psi = append(psi, p...) // the PAT and the PMT after it
		case i >= int(first.pos) && pktPID(p) != pidPAT && i < int(first.pos)+40*packetSize:
			rest = append(rest, p...)
		}
	}
	if len(psi) != 2*packetSize {
		t.Fatalf("clip.ts: %d PSI bytes before the first keyframe, want a PAT and a one-packet PMT", len(psi))
	}
	stream := append(bytes.Clone(rest[:20*packetSize]), psi...) // keyframe, then the program
	stream = append(stream, rest[20*packetSize:]...)
	got := rapsOf(stream)
	if len(got) != 1 || got[0].pos != 0 || got[0].pts != first.pts {
		t.Fatalf("rapsOf(keyframe before PAT/PMT) = %+v, want one at 0 with PTS %d", got, first.pts)
	}
}

func TestTimestampRoundTrip(t *testing.T) {
	t.Parallel()
	for _, ts := range []int64{0, 1, 90000, 1<<32 + 12345, 1<<33 - 1} {
		b := []byte{0x21, 0, 1, 0, 1} // '0010' prefix and marker bits, as in a PES header with PTS only
		writeTimestamp(b, ts)
		if got := readTimestamp(b); got != ts {
			t.Errorf("readTimestamp(writeTimestamp(%d)) = %d", ts, got)
		}
		if b[0]&0xF0 != 0x20 || b[0]&1 != 1 || b[2]&1 != 1 || b[4]&1 != 1 {
			t.Errorf("writeTimestamp(%d) broke prefix or marker bits: % x", ts, b)
		}
	}
	if d := ptsDelta(1<<33-100, 50); d != 150 {
		t.Errorf("ptsDelta across the 33-bit wrap = %d, want 150", d)
	}
	if d := ptsDelta(50, 1<<33-100); d != -150 {
		t.Errorf("ptsDelta backwards across the wrap = %d, want -150", d)
	}
}

func TestResolvedKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  Source
		want string
	}{
		{Source{URL: "http://up/live/1.ts"}, KindTS},
		{Source{URL: "http://up/live/1.m3u8?token=x"}, KindHLS},
		{Source{URL: "HTTPS://UP/INDEX.M3U8"}, KindHLS},
		{Source{URL: "file:///srv/slate.ts"}, KindFile},
		{Source{URL: "/srv/slate.ts", Kind: "auto"}, KindFile},
		{Source{URL: "http://up/playlist.m3u8", Kind: KindTS}, KindTS},
		{Source{URL: "http://up/x", Kind: "HLS"}, KindHLS},
		{Source{URL: "http://up/x", Kind: "bogus"}, KindTS},
	}
	for _, tt := range tests {
		if got := tt.src.ResolvedKind(); got != tt.want {
			t.Errorf("%+v.ResolvedKind() = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestRenderMediaPlaylist(t *testing.T) {
	t.Parallel()
	segs := []segment{
		{seq: 41, dur: 4 * time.Second},
		{seq: 42, dur: 4400 * time.Millisecond, disc: true},
		{seq: 43, dur: 3960 * time.Millisecond},
	}
	got := string(renderMediaPlaylist(segs, 2, 4*time.Second, func(seq uint64) string {
		return "/hls/u/p/9/tok/9_" + string(rune('0'+seq%10)) + ".ts"
	}))
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:41\n" +
		"#EXT-X-DISCONTINUITY-SEQUENCE:2\n" +
		"#EXTINF:4.000,\n/hls/u/p/9/tok/9_1.ts\n" +
		"#EXT-X-DISCONTINUITY\n#EXTINF:4.400,\n/hls/u/p/9/tok/9_2.ts\n" +
		"#EXTINF:3.960,\n/hls/u/p/9/tok/9_3.ts\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("renderMediaPlaylist (-want +got):\n%s", diff)
	}
	// A segment longer than the target raises EXT-X-TARGETDURATION (RFC 8216 §4.3.3.1).
	long := renderMediaPlaylist([]segment{{seq: 1, dur: 6600 * time.Millisecond}}, 0, 4*time.Second,
		func(uint64) string { return "s.ts" })
	if !bytes.Contains(long, []byte("#EXT-X-TARGETDURATION:7\n")) {
		t.Fatalf("playlist with a 6.6 s segment:\n%s\nwant TARGETDURATION 7", long)
	}
}

func TestParsePlaylist(t *testing.T) {
	t.Parallel()
	master := "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1280000,CODECS=\"avc1.4d401f,mp4a.40.2\"\nlow.m3u8\n" +
		"#EXT-X-STREAM-INF:CODECS=\"avc1.640028,mp4a.40.2\",BANDWIDTH=5000000\nhi.m3u8\n"
	vs, media, err := parsePlaylist([]byte(master))
	if err != nil || media != nil || len(vs) != 2 || pickVariant(vs).uri != "hi.m3u8" {
		t.Fatalf("parsePlaylist(master) = %+v, %+v, %v; want 2 variants, best hi.m3u8", vs, media, err)
	}
	live := "\xEF\xBB\xBF#EXTM3U\r\n#EXT-X-TARGETDURATION:6\r\n#EXT-X-MEDIA-SEQUENCE:100\r\n" +
		"#EXT-X-KEY:METHOD=NONE\r\n#EXTINF:5.005,title\r\nhttp://cdn/a.ts?x=1\r\n#EXT-X-DISCONTINUITY\r\n" +
		"#EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\r\n#EXTINF:6,\r\nb.ts\r\n"
	_, media, err = parsePlaylist([]byte(live))
	if err != nil {
		t.Fatalf("parsePlaylist(live) error: %v", err)
	}
	want := &mediaPlaylist{target: 6 * time.Second, seq: 100, segs: []mediaSegment{
		{uri: "http://cdn/a.ts?x=1", dur: 5005 * time.Millisecond},
		{uri: "b.ts", dur: 6 * time.Second, disc: true},
	}}
	if diff := cmp.Diff(want, media, cmp.AllowUnexported(mediaPlaylist{}, mediaSegment{})); diff != "" {
		t.Fatalf("parsePlaylist(live) (-want +got):\n%s", diff)
	}
	for _, bad := range []string{
		"", "hello", "#EXTM3U\nseg.ts\n", "#EXTM3U\n#EXTINF:abc,\na.ts\n", "#EXTM3U\n#EXTINF:-1,\na.ts\n",
		"#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n#EXTINF:1,\na.ts\n",
		"#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1,\na.m4s\n",
	} {
		if _, _, err := parsePlaylist([]byte(bad)); err == nil {
			t.Errorf("parsePlaylist(%q) = nil error, want an error", bad)
		}
	}
}

// FuzzParsePlaylist checks that upstream playlists never panic the parser and that a parsed media playlist
// survives our renderer: parse → render → parse gives the same segments.
func FuzzParsePlaylist(f *testing.F) {
	f.Add([]byte("#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:5.005,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:6,\nb.ts\n#EXT-X-ENDLIST\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=1x1\nv.m3u8\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-STREAM-INF:CODECS=\"a,b\",BANDWIDTH=9\nv.m3u8\n#EXTINF:1,\nx\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\"\n"))
	f.Add([]byte("#EXTM3U\n#EXTINF:1e309,\na\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, media, err := parsePlaylist(data)
		if err != nil || media == nil || len(media.segs) == 0 {
			return
		}
		segs := make([]segment, len(media.segs))
		for i, s := range media.segs {
			segs[i] = segment{seq: media.seq + uint64(i), dur: s.dur, disc: s.disc}
		}
		out := renderMediaPlaylist(segs, 0, media.target, func(seq uint64) string {
			return media.segs[seq-media.seq].uri
		})
		_, back, err := parsePlaylist(out)
		if err != nil {
			t.Fatalf("re-parse of rendered playlist: %v\n%s", err, out)
		}
		if back.seq != media.seq || len(back.segs) != len(media.segs) {
			t.Fatalf("round trip: seq %d/%d segments %d/%d", back.seq, media.seq, len(back.segs), len(media.segs))
		}
		for i := range back.segs {
			a, b := media.segs[i], back.segs[i]
			if a.uri != b.uri || a.disc != b.disc || (a.dur-b.dur).Abs() > time.Millisecond {
				t.Fatalf("segment %d: %+v became %+v", i, a, b)
			}
		}
	})
}

// FuzzIngest feeds arbitrary upstream bytes through the ingest path (resync, inspection, PSI parsing with
// go-astits): it must not panic, and what it commits must be whole, synchronised packets with keyframes
// on packet boundaries.
func FuzzIngest(f *testing.F) {
	data := clip(f, "clip.ts")
	f.Add(data[:40*packetSize])
	f.Add(stripRAI(data[:30*packetSize]))
	f.Add(append([]byte("HTTP/1.1 200 OK\r\n\r\n\x47\x47"), data[5:20*packetSize]...))
	f.Add(bytes.Repeat([]byte{0x47, 0x40, 0x00, 0x10, 0x00}, 200))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := newRing(4*packetSize, 4, time.Minute)
		ing := newIngest(r, newBlockPool(4*packetSize, 4), time.Now, 1, time.Hour)
		var raps []rap
		ing.onCommit = func(from, to uint64, rs []rap) { raps = append(raps, rs...) }
		// Feed in uneven pieces, as a network would.
		for len(in) > 0 {
			n := min(len(in), 1+int(in[0])%300)
			ing.write(in[:n])
			in = in[n:]
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		for pos := r.oldest(); pos < r.head; pos += packetSize {
			b := r.blockAt(pos)
			if off := pos % r.bsize; b.buf[off] != syncByte {
				t.Fatalf("committed packet at %d does not start with 0x47", pos)
			}
		}
		for _, p := range raps {
			if p.pos%packetSize != 0 || p.pos >= r.head {
				t.Fatalf("rap at %d: not a committed packet boundary (head %d)", p.pos, r.head)
			}
		}
		if !slices.IsSortedFunc(raps, func(a, b rap) int { return int(a.pos) - int(b.pos) }) {
			t.Fatalf("raps out of order: %+v", raps)
		}
	})
}

func TestSegmenterCutsAtKeyframes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		strip bool
	}{{"random access indicator", false}, {"NAL units only", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := clip(t, "clip.ts")
			if tt.strip {
				data = stripRAI(data)
			}
			r := newRing(348*packetSize, 64, time.Minute)
			ing := newIngest(r, newBlockPool(348*packetSize, 8), time.Now, 8192, time.Hour)
			win := newHLSWindow(100, 6, time.Second)
			seg := newSegmenter(win, r, &ing.insp, time.Second, 32<<20)
			seg.active = true
			ing.onCommit = seg.commit
			for off := 0; off < len(data); off += 1000 { // uneven network-sized pieces
				ing.write(data[off:min(off+1000, len(data))])
			}
			// 5 keyframes 2 s apart with a 1 s target: a segment ends at each of the last 4.
			if win.next != 104 || len(win.segs) != 4 {
				t.Fatalf("segments = %d (next seq %d), want 4 (next 104)", len(win.segs), win.next)
			}
			for _, s := range win.segs {
				if s.dur != 2*time.Second {
					t.Errorf("segment %d duration = %v, want 2s", s.seq, s.dur)
				}
				if pktPID(s.data) != pidPAT || len(s.data)%packetSize != 0 {
					t.Errorf("segment %d does not start with PAT on a packet boundary", s.seq)
				}
				raps := rapsOf(s.data)
				if len(raps) != 1 || raps[0].pos != 2*packetSize {
					t.Errorf("segment %d keyframes at %+v, want one right after PAT+PMT", s.seq, raps)
				}
			}
			if pl, err := win.playlist(t.Context(), func(seq uint64) string { return "s.ts" }); err != nil ||
				!bytes.Contains(pl, []byte("#EXT-X-MEDIA-SEQUENCE:100\n")) {
				t.Errorf("playlist = %q, %v; want media sequence 100", pl, err)
			}
		})
	}
}
