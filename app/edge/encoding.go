package edge

import "strings"

// AcceptsGzip reports whether an Accept-Encoding header value (RFC 9110 §12.5.3) lets the
// response be gzip-encoded: gzip (or its alias x-gzip) listed with a weight above zero, or
// else * with one. Names are compared without case; a weight that does not parse counts as
// zero, so a garbled header gets the body as it is.
func AcceptsGzip(header string) bool {
	star := false
	for header != "" {
		var item string
		item, header, _ = strings.Cut(header, ",")
		coding, params, _ := strings.Cut(item, ";")
		coding = strings.TrimSpace(coding)
		switch {
		case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
			return weightAboveZero(params) // an explicit entry decides, whatever * says
		case coding == "*":
			star = weightAboveZero(params)
		}
	}
	return star
}

// weightAboveZero reads the parameters after a coding ("q=0.5", " q=0"): no q is weight 1.
func weightAboveZero(params string) bool {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		return qAboveZero(strings.TrimSpace(value))
	}
	return true
}

// qAboveZero parses a qvalue (0, 0.x to three digits, 1, 1.000): true for anything but zero
// and for nothing malformed.
func qAboveZero(v string) bool {
	whole, frac, _ := strings.Cut(v, ".")
	if (whole != "0" && whole != "1") || len(frac) > 3 {
		return false
	}
	nonzero := whole == "1"
	for i := 0; i < len(frac); i++ {
		switch {
		case frac[i] < '0' || frac[i] > '9':
			return false
		case whole == "1" && frac[i] != '0':
			return false // above 1
		case frac[i] != '0':
			nonzero = true
		}
	}
	return nonzero
}
