package epg

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Writer streams an XMLTV document (xmltv.php, spec §3.2): the header, then channels, then
// programmes, each written as it comes, so an export of any size uses constant memory. Times
// carry an explicit UTC offset; every text and attribute is XML-escaped.
type Writer struct {
	w       *bufio.Writer
	scratch bytes.Buffer
	stamp   [len(timeLayout)]byte
	err     error
}

// NewWriter writes the XML declaration, the DOCTYPE and the opening <tv> element.
func NewWriter(w io.Writer, generatorName, generatorURL string) *Writer {
	x := &Writer{w: bufio.NewWriterSize(w, 32<<10)}
	x.raw(`<?xml version="1.0" encoding="utf-8" ?>` + "\n" + `<!DOCTYPE tv SYSTEM "xmltv.dtd">` + "\n")
	x.raw(`<tv generator-info-name="`)
	x.text(generatorName)
	x.raw(`" generator-info-url="`)
	x.text(generatorURL)
	x.raw("\">\n")
	return x
}

func (x *Writer) raw(s string) {
	if x.err == nil {
		_, x.err = x.w.WriteString(s)
	}
}

func (x *Writer) text(s string) {
	if x.err != nil {
		return
	}
	if escapeFree(s) { // most ids, names and titles: written as they are
		_, x.err = x.w.WriteString(s)
		return
	}
	x.scratch.Reset()
	appendEscaped(&x.scratch, s)
	_, x.err = x.w.Write(x.scratch.Bytes())
}

// time writes t as FormatTime does, without a string of its own.
func (x *Writer) time(t time.Time) {
	if x.err == nil {
		_, x.err = x.w.Write(t.UTC().AppendFormat(x.stamp[:0], timeLayout))
	}
}

// Channel writes one <channel>.
func (x *Writer) Channel(c Channel) error {
	x.raw(`  <channel id="`)
	x.text(c.ID)
	x.raw("\">\n    <display-name>")
	x.text(c.DisplayName)
	x.raw("</display-name>\n")
	if c.Icon != "" {
		x.raw(`    <icon src="`)
		x.text(c.Icon)
		x.raw("\" />\n")
	}
	x.raw("  </channel>\n")
	return x.err
}

// Programme writes one <programme> with its title, description and category.
func (x *Writer) Programme(p Programme) error {
	x.raw(`  <programme start="`)
	x.time(p.Start)
	x.raw(`" stop="`)
	x.time(p.Stop)
	x.raw(`" channel="`)
	x.text(p.Channel)
	x.raw("\">\n")
	x.element("title", p.Lang, p.Title)
	if p.Desc != "" {
		x.element("desc", p.Lang, p.Desc)
	}
	if p.Category != "" {
		x.element("category", p.Lang, p.Category)
	}
	x.raw("  </programme>\n")
	return x.err
}

func (x *Writer) element(name, lang, s string) {
	x.raw("    <")
	x.raw(name)
	if lang != "" {
		x.raw(` lang="`)
		x.text(lang)
		x.raw(`"`)
	}
	x.raw(">")
	x.text(s)
	x.raw("</")
	x.raw(name)
	x.raw(">\n")
}

// Close writes </tv> and flushes. It returns the first write error of the document.
func (x *Writer) Close() error {
	x.raw("</tv>\n")
	if x.err == nil {
		x.err = x.w.Flush()
	}
	if x.err != nil {
		return fmt.Errorf("xmltv: write: %w", x.err)
	}
	return nil
}

// escapeFree reports whether xml.EscapeText would write s unchanged: no character it escapes
// (the quotes, '&', '<', '>', tab, newline, carriage return), no other control character, and
// valid UTF-8 without U+FFFE or U+FFFF (which it replaces with U+FFFD).
func escapeFree(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\'' || c == '&' || c == '<' || c == '>' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}
