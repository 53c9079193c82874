package stream

import (
	"strconv"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/access"
)

// TestStatusFor_AllCodes maps every access code (spec §2.2, §7 #19).
func TestStatusFor_AllCodes(t *testing.T) {
	t.Parallel()
	want := map[access.Code]int{
		access.OK:               200,
		access.FormatDisallowed: 405,
		access.NotInBouquet:     406,
		access.SessionEnded:     403,
	}
	for _, code := range access.AllCodes() {
		w, ok := want[code]
		if !ok {
			w = 401
		}
		if got := statusFor(code); got != w {
			t.Errorf("statusFor(%v) = %d, want %d", code, got, w)
		}
	}
}

func TestParseLiveFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		id     int64
		format string
		ok     bool
	}{
		{"42", 42, "ts", true},
		{"42.ts", 42, "ts", true},
		{"42.TS", 42, "ts", true},
		{"42.ch", 42, "ts", true},
		{"42.m3u8", 42, "m3u8", true},
		{"9223372036854775807.ts", 9223372036854775807, "ts", true},
		{"9223372036854775808.ts", 0, "", false}, // overflow
		{"99999999999999999999999", 0, "", false},
		{"0", 0, "", false},
		{"-1", 0, "", false},
		{"+1", 0, "", false},
		{"1e3", 0, "", false},
		{"abc", 0, "", false},
		{"42.mp4", 0, "", false},
		{"42.", 0, "", false},
		{".ts", 0, "", false},
		{"", 0, "", false},
		{"4 2", 0, "", false},
		{"٤٢", 0, "", false}, // non-ASCII digits
	}
	for _, tt := range tests {
		id, format, ok := parseLiveFile(tt.in)
		if id != tt.id || format != tt.format || ok != tt.ok {
			t.Errorf("parseLiveFile(%q) = %d, %q, %v; want %d, %q, %v", tt.in, id, format, ok, tt.id, tt.format, tt.ok)
		}
	}
}

func TestParseStart(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no tzdata")
	}
	tests := []struct {
		in   string
		loc  *time.Location
		want string // UTC RFC 3339, "" = refused
	}{
		{"2024-07-01:20-30", time.UTC, "2024-07-01T20:30:00Z"},
		{"2024-07-01:20-30", london, "2024-07-01T19:30:00Z"}, // BST
		{"2024-01-01:20-30", london, "2024-01-01T20:30:00Z"},
		{"20240701-20", london, "2024-07-01T19:00:00Z"},
		{"2024-07-01_20-30", time.UTC, "2024-07-01T20:30:00Z"},
		{"2024-07-01:20:30", time.UTC, ""},
		{"2024-13-01:20-30", time.UTC, ""},
		{"2024-07-01:24-00", time.UTC, ""},
		{"2024-07-1:20-30", time.UTC, ""},
		{"+024-07-01:20-30", time.UTC, ""},
		{"2024070120", time.UTC, ""},
		{"", time.UTC, ""},
	}
	for _, tt := range tests {
		got, ok := parseStart(tt.in, tt.loc)
		s := ""
		if ok {
			s = got.UTC().Format(time.RFC3339)
		}
		if s != tt.want {
			t.Errorf("parseStart(%q, %v) = %q, want %q", tt.in, tt.loc, s, tt.want)
		}
	}
}

func TestParseRange(t *testing.T) {
	t.Parallel()
	const size = 1000
	tests := []struct {
		in         string
		kind       int
		start, end int64
	}{
		{"", rangeNone, 0, 0},
		{"bytes=0-99", rangeOK, 0, 99},
		{"bytes=100-", rangeOK, 100, 999},
		{"bytes=-10", rangeOK, 990, 999},
		{"bytes=-5000", rangeOK, 0, 999},
		{"bytes=990-5000", rangeOK, 990, 999},
		{"bytes=999-999", rangeOK, 999, 999},
		{"bytes=1000-", rangeUnsatisfiable, 0, 0},
		{"bytes=5000-6000", rangeUnsatisfiable, 0, 0},
		{"bytes=-0", rangeUnsatisfiable, 0, 0},
		{"bytes=0-1,5-6", rangeNone, 0, 0}, // several ranges: whole resource
		{"bytes=9-1", rangeNone, 0, 0},
		{"bytes=a-b", rangeNone, 0, 0},
		{"items=0-1", rangeNone, 0, 0},
		{"bytes=-", rangeNone, 0, 0},
		{"bytes=99999999999999999999-", rangeNone, 0, 0},
		{"bytes=9223372036854775808-", rangeNone, 0, 0}, // 19 digits, over int64
		{"bytes=-9223372036854775807", rangeOK, 0, 999},
	}
	for _, tt := range tests {
		r, kind := parseRange(tt.in, size)
		if kind != tt.kind || (kind == rangeOK && (r.start != tt.start || r.end != tt.end)) {
			t.Errorf("parseRange(%q, %d) = %+v, %d; want [%d, %d], %d", tt.in, size, r, kind, tt.start, tt.end, tt.kind)
		}
	}
}

func TestExpandCatchup(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 1, 31, 9, 5, 0, 0, time.UTC)
	got := expandCatchup("http://a/{stream_id}/{Y}{m}{d}/{H}{M}{S}/{start_unix}-{end_unix}/{duration_min}/{duration_sec}/{utc_iso}/{nope}",
		42, start.In(time.FixedZone("X", 3600)), 90)
	want := "http://a/42/20240131/090500/1706691900-1706697300/90/5400/2024-01-31T09:05:00Z/{nope}"
	if got != want {
		t.Errorf("expandCatchup = %q\nwant          %q", got, want)
	}
}

func FuzzParseLiveFile(f *testing.F) {
	for _, s := range []string{"42", "42.ts", "42.m3u8", "0", "-1", "99999999999999999999", "1.ch", "x.ts"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, format, ok := parseLiveFile(s)
		if !ok {
			return
		}
		if id <= 0 || (format != "ts" && format != "m3u8") {
			t.Fatalf("parseLiveFile(%q) = %d, %q: out of range", s, id, format)
		}
		// Canonical form round-trips.
		back, bf, bok := parseLiveFile(strconv.FormatInt(id, 10) + "." + format)
		if !bok || back != id || bf != format {
			t.Fatalf("parseLiveFile(%q) = %d %q does not round-trip", s, id, format)
		}
	})
}

func FuzzParseStart(f *testing.F) {
	for _, s := range []string{"2024-07-01:20-30", "20240701-20", "2024-07-01_20-30", "2024-02-30:10-00", "9999-12-31:23-59"} {
		f.Add(s)
	}
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		loc = time.UTC
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range []*time.Location{time.UTC, loc} {
			got, ok := parseStart(s, l)
			if !ok {
				continue
			}
			// parse → format → parse is the identity (up to the minute the short form drops).
			back, ok := parseStart(formatStart(got, l), l)
			if !ok || !back.Equal(got) {
				t.Fatalf("parseStart(%q) = %v; formatted %q parses to %v, %v", s, got, formatStart(got, l), back, ok)
			}
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=5-", "bytes=1-0", "bytes=0-1,2-3", "bytes=99999999999999999999-"} {
		f.Add(s, int64(1000))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			return
		}
		r, kind := parseRange(h, size)
		if kind == rangeOK && (r.start < 0 || r.end >= size || r.start > r.end) {
			t.Fatalf("parseRange(%q, %d) = %+v: not inside the resource", h, size, r)
		}
	})
}

func FuzzParseSeq(f *testing.F) {
	for _, s := range []string{"1.ts", "18446744073709551615.ts", "18446744073709551616.ts", "x.ts", "1.m3u8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seq, ok := parseSeq(s)
		if ok {
			if back, ok := parseSeq(strconv.FormatUint(seq, 10) + ".ts"); !ok || back != seq {
				t.Fatalf("parseSeq(%q) = %d does not round-trip", s, seq)
			}
		}
	})
}
