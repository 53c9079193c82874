package testkit

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Raw is one response to RawRequest, read whole.
type Raw struct {
	Status int
	Header http.Header
	Body   []byte
	// Reset: the server closed the connection while the request was still being written,
	// before an answer could be read (Status is 0).
	Reset bool
}

// RawRequest sends one HTTP/1.1 request to base (http://host:port) on its own connection,
// written byte for byte: header values may hold what net/http refuses to send (a NUL, a lone
// CR, invalid UTF-8), as a hostile client's do. header is in order, repeats allowed; a
// Content-Length is added for the body. The connection is closed after the answer.
func RawRequest(t testing.TB, base, method, target string, header [][2]string, body []byte) Raw {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("raw request: base %q: %v", base, err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		t.Fatalf("raw request: dial %s: %v", u.Host, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	var b bytes.Buffer
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: " + u.Host + "\r\nConnection: close\r\n")
	for _, h := range header {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	b.Write(body)
	// The answer is read while the request is written: a server refusing a body past its
	// limit answers and closes before reading it, and the rest of the write is reset.
	type read struct {
		raw Raw
		err error
	}
	done := make(chan read, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			done <- read{err: err}
			return
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		done <- read{raw: Raw{Status: resp.StatusCode, Header: resp.Header, Body: out}, err: err}
	}()
	_, werr := conn.Write(b.Bytes())
	r := <-done
	switch {
	case r.err != nil && werr != nil:
		// Reset before any answer arrived: only a refusal of what was still being written.
		return Raw{Reset: true}
	case r.err != nil:
		t.Fatalf("raw request: %s %.80s: no answer: %v", method, target, r.err)
	}
	return r.raw
}

// ParserAnswer reports whether a is an answer given before any route ran, in the HTTP
// server's words rather than a surface's (JSON or a page): the parser's refusal of a control
// byte in a header or of a body past the limit, its 431 of a head past its buffer, the
// router's 404 of a path that an empty parameter left without its segment.
func ParserAnswer(v Variant, a Raw) bool {
	ct := a.Header.Get("Content-Type")
	if strings.Contains(ct, "json") || strings.Contains(ct, "html") {
		return false
	}
	switch {
	case a.Status == http.StatusRequestHeaderFieldsTooLarge:
		return true
	case v.Unparsable:
		return a.Status == http.StatusBadRequest || a.Status == http.StatusRequestEntityTooLarge
	case strings.HasPrefix(v.Where, "path "):
		return a.Status == http.StatusNotFound && strings.HasPrefix(string(a.Body), "Cannot ")
	}
	return false
}
