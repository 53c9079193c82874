package epg_test

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/epg"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    string // RFC 3339 of the instant, "" for an error
		wantOff int    // offset in seconds of the parsed time
	}{
		{"20250303120000 +0000", "2025-03-03T12:00:00Z", 0},
		{"20250303120000 +0100", "2025-03-03T11:00:00Z", 3600},
		{"20250303120000 -0530", "2025-03-03T17:30:00Z", -19800},
		{"20250303120000+0200", "2025-03-03T10:00:00Z", 7200},
		{"20250303120000 +02:00", "2025-03-03T10:00:00Z", 7200},
		{"20250303120000 +02", "2025-03-03T10:00:00Z", 7200},
		{"20250303120000", "2025-03-03T12:00:00Z", 0},
		{"202503031230", "2025-03-03T12:30:00Z", 0},
		{"202503031230 +0100", "2025-03-03T11:30:00Z", 3600},
		{"2025030312", "2025-03-03T12:00:00Z", 0},
		{"20250303", "2025-03-03T00:00:00Z", 0},
		{" 20250303120000 UTC ", "2025-03-03T12:00:00Z", 0},
		{"20250303120000 Z", "2025-03-03T12:00:00Z", 0},
		{"", "", 0},
		{"2025", "", 0},
		{"2025030312000", "", 0},  // odd length
		{"20250230120000", "", 0}, // no such day
		{"20251303120000", "", 0}, // month 13
		{"20250303240000", "", 0}, // hour 24
		{"20250303120000 +2500", "", 0},
		{"20250303120000 CET", "", 0},
		{"20250303120000 +01x0", "", 0},
		{"00010101000000 +0100", "", 0}, // before year 1 in UTC
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := epg.ParseTime(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseTime(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || !got.Equal(at(tt.want)) {
				t.Fatalf("ParseTime(%q) = %v, %v, want %s", tt.in, got, err, tt.want)
			}
			if _, off := got.Zone(); off != tt.wantOff {
				t.Fatalf("ParseTime(%q) offset = %d, want %d", tt.in, off, tt.wantOff)
			}
		})
	}
	if got := epg.FormatTime(at("2025-03-03T12:00:00+01:00")); got != "20250303110000 +0000" {
		t.Fatalf("FormatTime = %q", got)
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"20250303120000 +0000", "202503031230", "20250303120000+02:00", "20250303", "99991231235959 -1400",
		"00010101000000 +1400", "20240229000000 -0000", "2025030312 gmt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := epg.ParseTime(s)
		if err != nil {
			return
		}
		back, err := epg.ParseTime(epg.FormatTime(got))
		if err != nil || !back.Equal(got) {
			t.Fatalf("ParseTime(%q) = %v does not round-trip: %v, %v", s, got, back, err)
		}
	})
}

// decodeAll reads every programme of a document.
func decodeAll(t *testing.T, r io.Reader) ([]epg.Programme, *epg.Decoder) {
	t.Helper()
	d, err := epg.NewDecoder(r)
	if err != nil {
		t.Fatal(err)
	}
	var ps []epg.Programme
	for {
		p, err := d.Next()
		if err == io.EOF {
			return ps, d
		}
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
}

func TestDecoder_SampleGuide(t *testing.T) {
	t.Parallel()
	wantProgs := []epg.Programme{
		{Channel: "news1.tv", Start: at("2025-03-03T12:00:00Z"), Stop: at("2025-03-03T13:00:00Z"), Title: "Noon News",
			Desc: "Headlines & weather <live>", Lang: "en", Category: "News"},
		{Channel: "news1.tv", Start: at("2025-03-03T13:00:00Z"), Stop: at("2025-03-03T14:00:00Z"), Title: "World Report"},
		{Channel: "news1.tv", Start: at("2025-03-03T14:00:00Z"), Stop: at("2025-03-03T15:00:00Z"), Title: "Business Today"},
		{Channel: "news1.tv", Start: at("2025-03-03T15:00:00Z"), Stop: at("2025-03-03T16:00:00Z"), Title: "Late Edition"},
		{Channel: "sport1.tv", Start: at("2025-03-03T12:00:00Z"), Stop: at("2025-03-03T14:00:00Z"), Title: "Match Day\u00a0Live"},
	}
	wantChans := []epg.Channel{
		{ID: "news1.tv", DisplayName: "News One", Icon: "http://logos.example.com/news1.png"},
		{ID: "sport1.tv", DisplayName: "Sport & More"},
	}
	wantSkipped := map[string]int{epg.SkipNoChannelID: 1, epg.SkipStopOrder: 1, epg.SkipBadStart: 1,
		epg.SkipNoChannel: 1, epg.SkipNoStop: 1}
	for _, file := range []string{"guide.xml", "guide.xml.gz"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open("../../testdata/xmltv/" + file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ps, d := decodeAll(t, f)
			if diff := cmp.Diff(wantProgs, ps, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("programmes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantChans, d.Channels()); diff != "" {
				t.Errorf("channels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantSkipped, d.Skipped()); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecoder_Latin1(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../testdata/xmltv/latin1.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ps, d := decodeAll(t, f)
	if len(ps) != 1 || ps[0].Title != "Déjà vu" || d.Channels()[0].DisplayName != "Café" {
		t.Fatalf("latin1: %+v %+v", ps, d.Channels())
	}
}

func TestDecoder_BrokenXMLIsAnError(t *testing.T) {
	t.Parallel()
	d, err := epg.NewDecoder(strings.NewReader(`<tv><programme start="20250303120000" stop="20250303130000" channel="a"><title>x</tit`))
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := d.Next()
		if err == io.EOF {
			t.Fatal("truncated document read without error")
		}
		if err != nil {
			return
		}
	}
}

func TestDecoder_ClipsHugeTexts(t *testing.T) {
	t.Parallel()
	doc := `<tv><programme start="20250303120000" stop="20250303130000" channel="a"><title>` +
		strings.Repeat("é", 5000) + `</title><desc>` + strings.Repeat("x", 1<<20) + `</desc></programme></tv>`
	ps, _ := decodeAll(t, strings.NewReader(doc))
	if len(ps) != 1 || len(ps[0].Title) > 1024 || len(ps[0].Desc) > 16<<10 || !strings.HasPrefix(ps[0].Title, "éé") {
		t.Fatalf("clipped: title %d bytes, desc %d bytes", len(ps[0].Title), len(ps[0].Desc))
	}
}

func TestWriter_RoundTrip(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := epg.NewWriter(&buf, `xtreamd "test"`, "http://tv.example.com/?a=1&b=2")
	chans := []epg.Channel{{ID: `a&b"c`, DisplayName: "A <One>", Icon: "http://i/a.png?x=1&y=2"}, {ID: "b", DisplayName: "B"}}
	progs := []epg.Programme{
		{Channel: `a&b"c`, Start: at("2025-03-03T12:00:00+01:00"), Stop: at("2025-03-03T13:00:00+01:00"), Title: "Tom & Jerry",
			Desc: "line one\nline <two>", Lang: "en", Category: "Kids"},
		{Channel: "b", Start: at("2025-03-03T12:00:00Z"), Stop: at("2025-03-03T12:30:00Z"), Title: "Plain"},
	}
	for _, c := range chans {
		if err := w.Channel(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range progs {
		if err := w.Programme(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`<?xml version="1.0" encoding="utf-8" ?>` + "\n" + `<!DOCTYPE tv SYSTEM "xmltv.dtd">` + "\n",
		`<tv generator-info-name="xtreamd &#34;test&#34;" generator-info-url="http://tv.example.com/?a=1&amp;b=2">`,
		`<programme start="20250303110000 +0000" stop="20250303120000 +0000" channel="a&amp;b&#34;c">`,
		`<title lang="en">Tom &amp; Jerry</title>`,
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	ps, d := decodeAll(t, strings.NewReader(out))
	if diff := cmp.Diff(progs, ps, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Fatalf("round trip programmes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(chans, d.Channels()); diff != "" {
		t.Fatalf("round trip channels (-want +got):\n%s", diff)
	}
}

func FuzzDecoder(f *testing.F) {
	for _, name := range []string{"guide.xml", "latin1.xml"} {
		b, err := os.ReadFile("../../testdata/xmltv/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<tv><programme start="2025" channel="a"/><programme start="20250303" channel="a"/></tv>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := epg.NewDecoder(bytes.NewReader(b))
		if err != nil {
			return
		}
		for range 10_000 {
			p, err := d.Next()
			if err != nil {
				return
			}
			if !p.Stop.After(p.Start) || p.Channel == "" {
				t.Fatalf("incomplete programme %+v", p)
			}
		}
	})
}
