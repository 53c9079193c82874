package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// liveEdgeSegments is how many of the newest segments an HLS pull starts with.
const liveEdgeSegments = 3

// fetch GETs url whole (at most limit bytes) and returns the body and the final URL after redirects.
func (h *hub) fetch(ctx context.Context, u string, limit int64) ([]byte, *url.URL, error) {
	resp, watchdog, cancel, err := h.get(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	defer cancel(nil)
	defer resp.Body.Close()
	defer watchdog.Stop()
	// The stall watchdog was armed by get; every read below re-arms it.
	data, err := io.ReadAll(&watchedReader{r: io.LimitReader(resp.Body, limit+1), t: watchdog,
		d: h.m.opts.StallTimeout})
	if err != nil {
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, nil, fmt.Errorf("body larger than %d bytes", limit)
	}
	return data, resp.Request.URL, nil
}

// watchedReader re-arms a stall watchdog after every read that returned data.
type watchedReader struct {
	r io.Reader
	t *time.Timer
	d time.Duration
}

// Read reads from the wrapped reader and re-arms the watchdog when data came.
func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.t.Reset(w.d)
	}
	return n, err
}

// hopFrom returns ctx for fetching u, a URL read from an upstream playlist: a URL on another host than
// the configured source's (origin) is a hop, held to the client's rules for redirects (HTTPOptions).
func hopFrom(ctx context.Context, origin, u string) context.Context {
	if p, err := url.Parse(u); err == nil && strings.EqualFold(p.Host, origin) {
		return ctx
	}
	return derived(ctx)
}

// hostOf returns the host (and port) of a URL, "" when it has none.
func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Host
}

// fetchMedia fetches a playlist URL, following a master playlist to its best variant, and returns the media
// playlist and the URL its segment URIs are relative to. origin is the configured source's host.
func (h *hub) fetchMedia(ctx context.Context, origin, u string) (*mediaPlaylist, *url.URL, error) {
	for range 2 {
		data, base, err := h.fetch(hopFrom(ctx, origin, u), u, maxPlaylistBytes)
		if err != nil {
			return nil, nil, fmt.Errorf("playlist: %w", err)
		}
		variants, media, err := parsePlaylist(data)
		if err != nil {
			return nil, nil, fmt.Errorf("playlist: %w", err)
		}
		if media != nil {
			return media, base, nil
		}
		ref, err := base.Parse(pickVariant(variants).uri)
		if err != nil {
			return nil, nil, fmt.Errorf("variant uri: %w", err)
		}
		u = ref.String()
	}
	return nil, nil, errors.New("playlist: master playlist points to another master playlist")
}

// pullHLS follows an HLS source: it reloads the media playlist, fetches each new segment once, adds it to
// the hub's HLS window (pass-through) and feeds its packets to the ring for TS viewers.
func (h *hub) pullHLS(ctx context.Context, src string, up *upstream) error {
	o := &h.m.opts
	origin := hostOf(src)
	media, base, err := h.fetchMedia(ctx, origin, src)
	if err != nil {
		return err
	}
	if base.String() != src {
		src = base.String() // reload the variant (or redirect target), not the master
	}
	var (
		last    uint64
		started bool
		newAt   = o.Now()
	)
	for {
		target := media.target
		if target <= 0 {
			target = o.SegmentTarget
		}
		from := 0
		if !started {
			from = max(0, len(media.segs)-liveEdgeSegments)
		}
		added := 0
		for i := from; i < len(media.segs); i++ {
			seq := media.seq + uint64(i)
			if started && seq <= last {
				continue
			}
			s := media.segs[i]
			ref, err := base.Parse(s.uri)
			if err != nil {
				return fmt.Errorf("segment uri: %w", err)
			}
			data, _, err := h.fetch(hopFrom(ctx, origin, ref.String()), ref.String(), int64(o.MaxSegmentBytes))
			if err != nil {
				return fmt.Errorf("segment %d: %w", seq, err)
			}
			h.m.c.segmentFetches.Add(1)
			h.m.c.bytesIn.Add(uint64(len(data)))
			if s.disc || (started && seq != last+1) {
				h.win.markDiscontinuity()
			}
			h.win.add(data, s.dur)
			pk0 := h.ing.packets
			h.ing.write(data)
			h.ing.discardPartialPacket()
			if h.ing.packets > pk0 {
				up.open()
			}
			last, started = seq, true
			added++
		}
		now := o.Now()
		if added > 0 {
			newAt = now
		} else if media.endList {
			return errors.New("playlist ended")
		}
		stall := max(o.StallTimeout, 3*target)
		if now.Sub(newAt) > stall {
			return fmt.Errorf("no new segment for %s: %w", now.Sub(newAt).Round(time.Second), errStalled)
		}
		wait := target
		if added == 0 {
			wait = target / 2 // RFC 8216 §6.3.4: half the target duration after an unchanged reload
		}
		if !sleepCtx(ctx, wait) {
			return ctx.Err()
		}
		media, base, err = h.fetchMedia(ctx, origin, src)
		if err != nil {
			return err
		}
	}
}
