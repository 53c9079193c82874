// Package epg is the programme guide: XMLTV import (a streaming, tolerant parser and an
// idempotent bulk merge), XMLTV export, the programme queries the player surfaces ask, and a
// scheduled refresher of the configured XMLTV sources.
package epg

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/text/encoding/htmlindex"
)

// Channel is an XMLTV <channel>.
type Channel struct {
	ID          string
	DisplayName string // the first <display-name>
	Icon        string // the first <icon src>
}

// Programme is an XMLTV <programme>, complete: Stop is after Start.
type Programme struct {
	Channel  string
	Start    time.Time
	Stop     time.Time
	Title    string // the first <title>
	Desc     string // the first <desc>
	Lang     string // the first title's lang attribute
	Category string // the first <category>
}

// Limits on one programme's texts: a guide is untrusted input, and these keep one hostile
// element from filling the database.
const (
	maxTitle = 1 << 10
	maxDesc  = 16 << 10
	maxShort = 256
)

// Skip reasons reported by Decoder.Skipped.
const (
	SkipNoChannel   = "programme without channel"
	SkipBadStart    = "unparseable start time"
	SkipBadStop     = "unparseable stop time"
	SkipStopOrder   = "stop not after start"
	SkipNoStop      = "no stop time and no later programme on its channel"
	SkipNoChannelID = "channel without id"
)

// Decoder reads an XMLTV document as a stream: memory holds one element at a time plus, per
// channel, the last programme while it waits for a stop time. It is tolerant: gzip input is
// detected by its magic bytes, legacy charsets are decoded, HTML entities are accepted, times
// may lack seconds or an offset (UTC is assumed), a missing stop is taken from the channel's
// next programme, and bad programmes are counted in Skipped instead of failing the file. Only
// broken XML structure is an error.
type Decoder struct {
	dec      *xml.Decoder
	pending  map[string]*Programme // programme without stop, per channel
	queue    []Programme           // complete programmes ready for Next
	channels []Channel
	skipped  map[string]int
	done     bool
}

// NewDecoder returns a Decoder reading r, gunzipping it when it starts with the gzip magic.
func NewDecoder(r io.Reader) (*Decoder, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("xmltv: gzip: %w", err)
		}
		r = zr
	} else {
		r = br
	}
	dec := xml.NewDecoder(r)
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		enc, err := htmlindex.Get(label)
		if err != nil {
			return nil, fmt.Errorf("xmltv: unsupported charset %q", label)
		}
		return enc.NewDecoder().Reader(in), nil
	}
	return &Decoder{dec: dec, pending: make(map[string]*Programme), skipped: make(map[string]int)}, nil
}

type xmlText struct {
	Lang string `xml:"lang,attr"`
	Text string `xml:",chardata"`
}

type xmlProgramme struct {
	Start      string    `xml:"start,attr"`
	Stop       string    `xml:"stop,attr"`
	Channel    string    `xml:"channel,attr"`
	Titles     []xmlText `xml:"title"`
	Descs      []xmlText `xml:"desc"`
	Categories []xmlText `xml:"category"`
}

type xmlChannel struct {
	ID           string    `xml:"id,attr"`
	DisplayNames []xmlText `xml:"display-name"`
	Icons        []struct {
		Src string `xml:"src,attr"`
	} `xml:"icon"`
}

// Next returns the next complete programme, or io.EOF after the last one. Channels met on
// the way are collected for Channels.
func (d *Decoder) Next() (Programme, error) {
	for len(d.queue) == 0 {
		if d.done {
			return Programme{}, io.EOF
		}
		if err := d.step(); err != nil {
			return Programme{}, err
		}
	}
	p := d.queue[0]
	d.queue = d.queue[1:]
	if len(d.queue) == 0 {
		d.queue = d.queue[:0:0] // let the backing array go
	}
	return p, nil
}

// step reads up to the next channel or programme element.
func (d *Decoder) step() error {
	tok, err := d.dec.Token()
	if errors.Is(err, io.EOF) {
		d.finish()
		return nil
	}
	if err != nil {
		return fmt.Errorf("xmltv: %w", err)
	}
	se, ok := tok.(xml.StartElement)
	if !ok {
		return nil
	}
	switch se.Name.Local {
	case "channel":
		var c xmlChannel
		if err := d.dec.DecodeElement(&c, &se); err != nil {
			return fmt.Errorf("xmltv: channel: %w", err)
		}
		d.addChannel(c)
	case "programme":
		var p xmlProgramme
		if err := d.dec.DecodeElement(&p, &se); err != nil {
			return fmt.Errorf("xmltv: programme: %w", err)
		}
		d.addProgramme(p)
	}
	return nil
}

func (d *Decoder) addChannel(c xmlChannel) {
	id := strings.TrimSpace(c.ID)
	if id == "" {
		d.skipped[SkipNoChannelID]++
		return
	}
	ch := Channel{ID: clip(id, maxShort)}
	if len(c.DisplayNames) > 0 {
		ch.DisplayName = clip(strings.TrimSpace(c.DisplayNames[0].Text), maxShort)
	}
	if len(c.Icons) > 0 {
		ch.Icon = clip(strings.TrimSpace(c.Icons[0].Src), 4096)
	}
	d.channels = append(d.channels, ch)
}

func (d *Decoder) addProgramme(x xmlProgramme) {
	ch := strings.TrimSpace(x.Channel)
	if ch == "" {
		d.skipped[SkipNoChannel]++
		return
	}
	start, err := ParseTime(x.Start)
	if err != nil {
		d.skipped[SkipBadStart]++
		return
	}
	p := Programme{Channel: clip(ch, maxShort), Start: start}
	if len(x.Titles) > 0 {
		p.Title = clip(strings.TrimSpace(x.Titles[0].Text), maxTitle)
		p.Lang = clip(strings.TrimSpace(x.Titles[0].Lang), maxShort)
	}
	if len(x.Descs) > 0 {
		p.Desc = clip(strings.TrimSpace(x.Descs[0].Text), maxDesc)
	}
	if len(x.Categories) > 0 {
		p.Category = clip(strings.TrimSpace(x.Categories[0].Text), maxShort)
	}
	// The channel's programme waiting for a stop time ends where this one starts.
	if prev := d.pending[p.Channel]; prev != nil {
		delete(d.pending, p.Channel)
		if p.Start.After(prev.Start) {
			prev.Stop = p.Start
			d.queue = append(d.queue, *prev)
		} else {
			d.skipped[SkipNoStop]++
		}
	}
	if strings.TrimSpace(x.Stop) == "" {
		d.pending[p.Channel] = &p
		return
	}
	stop, err := ParseTime(x.Stop)
	if err != nil {
		d.skipped[SkipBadStop]++
		return
	}
	if !stop.After(start) {
		d.skipped[SkipStopOrder]++
		return
	}
	p.Stop = stop
	d.queue = append(d.queue, p)
}

func (d *Decoder) finish() {
	d.done = true
	d.skipped[SkipNoStop] += len(d.pending)
	if d.skipped[SkipNoStop] == 0 {
		delete(d.skipped, SkipNoStop)
	}
	d.pending = nil
}

// Channels returns the channels read so far (all of them once Next returned io.EOF).
func (d *Decoder) Channels() []Channel { return d.channels }

// Skipped counts the elements left out, by reason.
func (d *Decoder) Skipped() map[string]int { return d.skipped }

// clip makes s storable (valid UTF-8 without NUL, which PostgreSQL rejects) and cuts it to at
// most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8Start(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0x80 { // a lead byte whose continuation was cut
		s = s[:len(s)-1]
	}
	return s
}

func utf8Start(b byte) bool { return b < 0x80 || b >= 0xC0 }

// ParseTime parses an XMLTV time: "YYYYMMDDhhmmss +zzzz", where the time may be truncated to
// minutes, hours or the date, the offset may be absent (UTC), "±hh", "±hh:mm", "Z", "UTC" or
// "GMT", and the space before it optional.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	n := 0
	for n < len(s) && n < 14 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	if n < 8 || n%2 != 0 {
		return time.Time{}, fmt.Errorf("xmltv time %q: want YYYYMMDD[hh[mm[ss]]]", s)
	}
	num := func(i, w int) int {
		v := 0
		for _, c := range s[i : i+w] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(4, 2), num(6, 2)
	var hour, minute, sec int
	if n >= 10 {
		hour = num(8, 2)
	}
	if n >= 12 {
		minute = num(10, 2)
	}
	if n >= 14 {
		sec = num(12, 2)
	}
	loc, err := parseOffset(strings.TrimSpace(s[n:]))
	if err != nil {
		return time.Time{}, fmt.Errorf("xmltv time %q: %w", s, err)
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, fmt.Errorf("xmltv time %q: out of range", s)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc)
	if t.Day() != day { // 20250230 normalises into March
		return time.Time{}, fmt.Errorf("xmltv time %q: no such day", s)
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 { // FormatTime must be able to write it back
		return time.Time{}, fmt.Errorf("xmltv time %q: out of range", s)
	}
	return t, nil
}

func parseOffset(s string) (*time.Location, error) {
	switch strings.ToUpper(s) {
	case "", "Z", "UTC", "GMT", "+0000", "-0000":
		return time.UTC, nil
	}
	if s[0] != '+' && s[0] != '-' {
		return nil, fmt.Errorf("bad offset %q", s)
	}
	digits := strings.Replace(s[1:], ":", "", 1)
	if (len(digits) != 2 && len(digits) != 4) || strings.Trim(digits, "0123456789") != "" {
		return nil, fmt.Errorf("bad offset %q", s)
	}
	h := int(digits[0]-'0')*10 + int(digits[1]-'0')
	m := 0
	if len(digits) == 4 {
		m = int(digits[2]-'0')*10 + int(digits[3]-'0')
	}
	if h > 14 || m > 59 {
		return nil, fmt.Errorf("offset %q out of range", s)
	}
	secs := h*3600 + m*60
	if s[0] == '-' {
		secs = -secs
	}
	return time.FixedZone("", secs), nil
}

// FormatTime formats t as XMLTV with an explicit UTC offset: "20250303120000 +0000".
func FormatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// timeLayout is the XMLTV time with its offset.
const timeLayout = "20060102150405 -0700"

// appendEscaped writes s XML-escaped (text and attribute safe).
func appendEscaped(w *bytes.Buffer, s string) {
	_ = xml.EscapeText(w, []byte(s)) // writes to a bytes.Buffer never fail
}
