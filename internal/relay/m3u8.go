package relay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Limits on upstream playlists, which are untrusted input.
const (
	maxPlaylistBytes    = 1 << 20
	maxPlaylistSegments = 10000
	maxPlaylistVariants = 256
)

// variant is one stream of a master playlist.
type variant struct {
	uri       string
	bandwidth int64
}

// mediaSegment is one entry of a media playlist.
type mediaSegment struct {
	uri  string
	dur  time.Duration
	disc bool
}

// mediaPlaylist is the part of an HLS media playlist the relay uses.
type mediaPlaylist struct {
	target  time.Duration
	seq     uint64 // media sequence number of segs[0]
	segs    []mediaSegment
	endList bool
}

// errUnsupportedPlaylist marks playlists the relay cannot feed into a TS ring (encrypted or fMP4 segments).
var errUnsupportedPlaylist = errors.New("unsupported playlist")

// parsePlaylist parses an HLS playlist (RFC 8216): a master playlist yields its variants, a media playlist
// its segments. URIs are returned as written (callers resolve them against the playlist URL).
func parsePlaylist(data []byte) ([]variant, *mediaPlaylist, error) {
	if len(data) > maxPlaylistBytes {
		return nil, nil, errors.New("playlist too large")
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxPlaylistBytes)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("read playlist: %w", err)
		}
		return nil, nil, errors.New("empty playlist")
	}
	if strings.TrimSpace(sc.Text()) != "#EXTM3U" {
		return nil, nil, errors.New("not an m3u8 playlist")
	}
	var p playlistParser
	for sc.Scan() {
		if err := p.line(strings.TrimSpace(sc.Text())); err != nil {
			return nil, nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read playlist: %w", err)
	}
	return p.result()
}

// playlistParser is the state of parsePlaylist between lines.
type playlistParser struct {
	variants   []variant
	media      mediaPlaylist
	isMedia    bool     // a media-playlist tag was seen
	pendingVar *variant // an EXT-X-STREAM-INF waiting for its URI
	pendingDur time.Duration
	hasInf     bool // an EXTINF waiting for its URI
	disc       bool // an EXT-X-DISCONTINUITY before the next segment
}

// line takes one trimmed line after the #EXTM3U header.
func (p *playlistParser) line(line string) error {
	switch {
	case line == "":
		return nil
	case line[0] == '#':
		return p.tag(line)
	}
	return p.uri(line)
}

// tag takes a tag or comment line. Tags a relay does not need are ignored.
func (p *playlistParser) tag(line string) error {
	switch {
	case strings.HasPrefix(line, "#EXT-X-STREAM-INF:"):
		bw, _ := strconv.ParseInt(attr(line[len("#EXT-X-STREAM-INF:"):], "BANDWIDTH"), 10, 64)
		p.pendingVar = &variant{bandwidth: bw}
	case strings.HasPrefix(line, "#EXTINF:"):
		v := line[len("#EXTINF:"):]
		if i := strings.IndexByte(v, ','); i >= 0 {
			v = v[:i]
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 86400 || math.IsNaN(f) {
			return fmt.Errorf("bad EXTINF %q", line)
		}
		p.pendingDur, p.hasInf, p.isMedia = time.Duration(f*float64(time.Second)), true, true
	case strings.HasPrefix(line, "#EXT-X-TARGETDURATION:"):
		n, err := strconv.ParseUint(line[len("#EXT-X-TARGETDURATION:"):], 10, 32)
		if err != nil || n > 86400 {
			return fmt.Errorf("bad target duration %q", line)
		}
		p.media.target, p.isMedia = time.Duration(n)*time.Second, true
	case strings.HasPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"):
		n, err := strconv.ParseUint(line[len("#EXT-X-MEDIA-SEQUENCE:"):], 10, 63)
		if err != nil {
			return fmt.Errorf("bad media sequence %q", line)
		}
		p.media.seq, p.isMedia = n, true
	case line == "#EXT-X-DISCONTINUITY":
		p.disc = true
	case line == "#EXT-X-ENDLIST":
		p.media.endList, p.isMedia = true, true
	case strings.HasPrefix(line, "#EXT-X-KEY:"):
		if m := attr(line[len("#EXT-X-KEY:"):], "METHOD"); m != "NONE" {
			return fmt.Errorf("%w: encrypted segments (%s)", errUnsupportedPlaylist, m)
		}
	case strings.HasPrefix(line, "#EXT-X-MAP:"):
		return fmt.Errorf("%w: fragmented MP4 segments", errUnsupportedPlaylist)
	}
	return nil
}

// uri takes a URI line: the variant or the segment the tags before it announced.
func (p *playlistParser) uri(line string) error {
	switch {
	case p.pendingVar != nil:
		if len(p.variants) == maxPlaylistVariants {
			return errors.New("too many variants")
		}
		p.pendingVar.uri = line
		p.variants = append(p.variants, *p.pendingVar)
		p.pendingVar = nil
	case p.hasInf:
		if len(p.media.segs) == maxPlaylistSegments {
			return errors.New("too many segments")
		}
		p.media.segs = append(p.media.segs, mediaSegment{uri: line, dur: p.pendingDur, disc: p.disc})
		p.hasInf, p.disc = false, false
	default:
		return fmt.Errorf("uri without EXTINF or EXT-X-STREAM-INF: %q", line)
	}
	return nil
}

// result is the parsed playlist: master or media, never both.
func (p *playlistParser) result() ([]variant, *mediaPlaylist, error) {
	if len(p.variants) > 0 {
		if p.isMedia {
			return nil, nil, errors.New("playlist is both master and media")
		}
		return p.variants, nil, nil
	}
	return nil, &p.media, nil
}

// attr returns the value of attribute name in an attribute list (RFC 8216 §4.2), without quotes.
func attr(list, name string) string {
	for len(list) > 0 {
		eq := strings.IndexByte(list, '=')
		if eq < 0 {
			return ""
		}
		key := strings.TrimSpace(list[:eq])
		list = list[eq+1:]
		var val string
		if strings.HasPrefix(list, `"`) {
			end := strings.IndexByte(list[1:], '"')
			if end < 0 {
				return ""
			}
			val, list = list[1:1+end], list[2+end:]
			if i := strings.IndexByte(list, ','); i >= 0 {
				list = list[i+1:]
			} else {
				list = ""
			}
		} else if i := strings.IndexByte(list, ','); i >= 0 {
			val, list = list[:i], list[i+1:]
		} else {
			val, list = list, ""
		}
		if key == name {
			return val
		}
	}
	return ""
}

// pickVariant returns the variant with the highest bandwidth (the first of equals).
func pickVariant(vs []variant) variant {
	best := vs[0]
	for _, v := range vs[1:] {
		if v.bandwidth > best.bandwidth {
			best = v
		}
	}
	return best
}
