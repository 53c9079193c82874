// Package m3u parses and writes extended M3U playlists (#EXTM3U / #EXTINF), the format
// operators receive from providers and get.php serves (spec §3.1).
package m3u

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Entry is one playlist item: an #EXTINF line and the URL that follows it.
type Entry struct {
	Line     int               // 1-based line of the #EXTINF
	Duration string            // as written ("-1" for live)
	Name     string            // the title after the comma
	Attrs    map[string]string // attributes, keys lower-cased; values never contain '"'
	Group    string            // group-title, else the #EXTGRP before the URL
	URL      string
}

// Attribute names the importer reads.
const (
	AttrTVGID         = "tvg-id"
	AttrTVGName       = "tvg-name"
	AttrTVGLogo       = "tvg-logo"
	AttrGroupTitle    = "group-title"
	AttrCatchup       = "catchup"
	AttrCatchupDays   = "catchup-days"
	AttrCatchupSource = "catchup-source"
	AttrTimeshift     = "timeshift"
	AttrTVGRec        = "tvg-rec"
)

// CatchupDays is the archive depth the entry announces: catchup-days, else timeshift (XUI),
// else tvg-rec; 0 when none or unparseable, at most 365.
func (e Entry) CatchupDays() int {
	for _, k := range []string{AttrCatchupDays, AttrTimeshift, AttrTVGRec} {
		if n, err := strconv.Atoi(strings.TrimSpace(e.Attrs[k])); err == nil && n > 0 {
			return min(n, 365)
		}
	}
	return 0
}

// Problem is a line the parser could not turn into an entry.
type Problem struct {
	Line   int
	Reason string
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Reason) }

// Problem reasons.
const (
	ReasonNoURL        = "no URL after #EXTINF"
	ReasonURLNoEXTINF  = "URL without #EXTINF"
	ReasonLineTooLong  = "line too long"
	maxLine            = 64 << 10
	maxProblemsPerKind = 1 << 20 // a hostile file cannot grow Problems without bound…
)

// Playlist is a parsed playlist.
type Playlist struct {
	Header   map[string]string // attributes of the #EXTM3U line (url-tvg, x-tvg-url …)
	Entries  []Entry
	Problems []Problem
}

// Parse reads a playlist. It is tolerant: the #EXTM3U header is optional, a UTF-8 BOM and CR
// line ends are accepted, unknown directives are ignored, and lines that do not make an entry
// are reported in Problems. Only a read error fails it.
func Parse(r io.Reader) (*Playlist, error) {
	p := &Playlist{Header: map[string]string{}}
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		cur    *Entry // the #EXTINF waiting for its URL
		extgrp string
		lineNo int
	)
	flush := func(reason string) {
		if cur != nil {
			p.problem(cur.Line, reason)
			cur = nil
		}
	}
	for {
		line, tooLong, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("m3u: read: %w", err)
		}
		lineNo++
		if tooLong {
			p.problem(lineNo, ReasonLineTooLong)
			continue
		}
		if lineNo == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case hasPrefixFold(line, "#EXTM3U"):
			attrs, _ := parseAttrs(line[len("#EXTM3U"):])
			for k, v := range attrs {
				p.Header[k] = v
			}
		case hasPrefixFold(line, "#EXTINF:"):
			flush(ReasonNoURL)
			e := parseEXTINF(line[len("#EXTINF:"):])
			e.Line = lineNo
			cur, extgrp = &e, ""
		case hasPrefixFold(line, "#EXTGRP:"):
			extgrp = strings.TrimSpace(line[len("#EXTGRP:"):])
		case line[0] == '#': // #EXTVLCOPT, #KODIPROP, comments
		default:
			if cur == nil {
				p.problem(lineNo, ReasonURLNoEXTINF)
				continue
			}
			cur.URL = line
			if cur.Group == "" {
				cur.Group = clean(extgrp)
			}
			p.Entries = append(p.Entries, *cur)
			cur = nil
		}
	}
	flush(ReasonNoURL)
	return p, nil
}

func (p *Playlist) problem(line int, reason string) {
	if len(p.Problems) < maxProblemsPerKind {
		p.Problems = append(p.Problems, Problem{Line: line, Reason: reason})
	}
}

// readLine reads one line without its end; lines longer than maxLine are consumed and flagged.
func readLine(br *bufio.Reader) (string, bool, error) {
	var buf []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			if err == io.EOF && len(buf) > 0 {
				return string(buf), false, nil
			}
			return "", false, err
		}
		if len(buf)+len(chunk) > maxLine {
			for isPrefix { // drop the rest of the line
				if _, isPrefix, err = br.ReadLine(); err != nil {
					break
				}
			}
			return "", true, nil
		}
		buf = append(buf, chunk...)
		if !isPrefix {
			return string(buf), false, nil
		}
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// parseEXTINF parses `-1 tvg-id="x" group-title="News",Channel Name`.
func parseEXTINF(s string) Entry {
	var e Entry
	i := 0
	for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != ',' {
		i++
	}
	e.Duration = s[:i]
	attrs, rest := parseAttrs(s[i:])
	e.Attrs = attrs
	e.Name = clean(rest)
	e.Group = attrs[AttrGroupTitle]
	return e
}

// parseAttrs reads key=value pairs (values double-quoted, single-quoted or bare) up to the
// first comma outside quotes, and returns them with the text after that comma.
func parseAttrs(s string) (map[string]string, string) {
	attrs := map[string]string{}
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			return attrs, ""
		}
		if s[i] == ',' {
			return attrs, s[i+1:]
		}
		k := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' && s[i] != ',' {
			i++
		}
		key := strings.ToLower(s[k:i])
		if i == len(s) || s[i] != '=' { // a bare word: not an attribute, skip it
			continue
		}
		i++ // '='
		var val string
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			q := s[i]
			i++
			v := i
			for i < len(s) && s[i] != q {
				i++
			}
			val = s[v:i]
			if i < len(s) {
				i++ // closing quote
			}
		} else {
			v := i
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != ',' {
				i++
			}
			val = s[v:i]
		}
		if key != "" {
			attrs[key] = clean(val)
		}
	}
	return attrs, ""
}

// clean trims a value and replaces '"', which no M3U attribute can carry, with '\”.
func clean(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), `"`, "'")
}

// Write formats entries as an extended M3U playlist: `#EXTM3U`, then per entry an #EXTINF
// line with the attributes in name order (group-title set from Group) and the URL.
func Write(w io.Writer, header map[string]string, entries []Entry) error {
	var b bytes.Buffer
	b.WriteString("#EXTM3U")
	writeAttrs(&b, header)
	b.WriteString("\n")
	for _, e := range entries {
		attrs := make(map[string]string, len(e.Attrs)+1)
		for k, v := range e.Attrs {
			attrs[k] = v
		}
		if e.Group != "" {
			attrs[AttrGroupTitle] = e.Group
		}
		d := e.Duration
		if d == "" {
			d = "-1"
		}
		b.WriteString("#EXTINF:" + d)
		writeAttrs(&b, attrs)
		b.WriteString("," + e.Name + "\n" + e.URL + "\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeAttrs(b *bytes.Buffer, attrs map[string]string) {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(" " + k + `="` + strings.ReplaceAll(attrs[k], `"`, "'") + `"`)
	}
}
