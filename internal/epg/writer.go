package epg

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Writer streams an XMLTV document (xmltv.php, spec §3.2): the header, then channels, then
// programmes, each written as it comes, so an export of any size uses constant memory. Times
// carry an explicit UTC offset; every text and attribute is XML-escaped.
type Writer struct {
	w       *bufio.Writer
	scratch bytes.Buffer
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
	x.scratch.Reset()
	appendEscaped(&x.scratch, s)
	_, x.err = x.w.Write(x.scratch.Bytes())
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
	x.raw(FormatTime(p.Start))
	x.raw(`" stop="`)
	x.raw(FormatTime(p.Stop))
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
	x.raw("    <" + name)
	if lang != "" {
		x.raw(` lang="`)
		x.text(lang)
		x.raw(`"`)
	}
	x.raw(">")
	x.text(s)
	x.raw("</" + name + ">\n")
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
