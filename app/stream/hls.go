package stream

import (
	"context"
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/relay"
	"github.com/xtreamd/xtreamd/internal/token"
)

// HLS links (our design; spec §2.3 leaves it open):
//
//	/hls/{token}/{seq}.ts      a segment of the live window
//	/hls/{token}/index.m3u8    the session playlist of a play-token HLS player
//
// A segment link's token is a KindSegment token binding the line, the stream, the HLS session
// (its lease id) and the client's address (IPv4) or /64 (IPv6). Segments are served after the
// token's check (signature in constant time, expiry, address) and an in-memory one: the session
// has not ended on any instance (killed, replaced, refused by a re-check) and the line is not
// expired, banned or disabled (access.Checker.SegmentAllowed), so no link outlives its session.
// The session playlist's token is a KindSession token of its own, carrying the credential the
// play token was issued under; each poll of it runs the whole access check, like a credential
// playlist does. Neither kind is accepted in the other's place.

const playlistType = "application/x-mpegurl"

// bindClient is the address a segment token is bound to: the exact IPv4 address, or the IPv6
// /64 (privacy addresses rotate inside it).
func bindClient(ip netip.Addr) netip.Prefix { return token.BindNet(ip, 32, 64) }

// sessionKey names an HLS session in the relay (its viewer count).
func sessionKey(id [16]byte) string { return hex.EncodeToString(id[:]) }

// mediaPlaylist answers the relay's live playlist with signed segment links.
func (h *Handler) mediaPlaylist(c *fiber.Ctx, lineID int64, st *catalog.Stream, session [16]byte, cl client) error {
	tok, err := h.tokens.Sign(token.Claims{
		Kind: token.KindSegment, LineID: lineID, StreamID: st.ID,
		ExpiresUnix: h.now().Unix() + int64(h.d.SegmentTTL.Seconds()), ClientIP: bindClient(cl.ip), SessionID: session,
	})
	if err != nil {
		return err
	}
	prefix := "/hls/" + tok + "/"
	ctx, cancel := context.WithTimeout(h.base, h.d.ReadyTimeout)
	defer cancel()
	pl, err := h.d.Relay.Playlist(ctx, st.ID, relaySources(st), sessionKey(session), func(seq uint64) string {
		return prefix + strconv.FormatUint(seq, 10) + ".ts"
	})
	if err != nil {
		code := fiber.StatusServiceUnavailable
		if errors.Is(err, relay.ErrUpstreamDown) {
			code = fiber.StatusBadGateway // every source has kept failing (the relay's DownDrop)
		}
		h.log.InfoContext(c.UserContext(), "hls playlist not ready", "stream_id", st.ID, "status", code, "err", err)
		return edge.Empty(c, code)
	}
	return writePlaylist(c, pl)
}

// masterPlaylist hands a play-token HLS player a one-variant master playlist whose variant is
// its session playlist, under the credential its play token was issued with.
func (h *Handler) masterPlaylist(c *fiber.Ctx, d access.Decision, st *catalog.Stream, cl client) error {
	tok, err := h.tokens.Sign(token.Claims{
		Kind: token.KindSession, LineID: d.Line.ID, StreamID: st.ID,
		ExpiresUnix: h.now().Unix() + int64(h.d.SessionTTL.Seconds()), ClientIP: bindClient(cl.ip), SessionID: d.Lease.ID,
		Credential: d.IssuingCredential(),
	})
	if err != nil {
		return err
	}
	body := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=2000000\n/hls/" + tok + "/index.m3u8\n"
	return writePlaylist(c, []byte(body))
}

func writePlaylist(c *fiber.Ctx, body []byte) error {
	c.Set(fiber.HeaderContentType, playlistType)
	c.Set(fiber.HeaderCacheControl, "no-store, no-cache, must-revalidate")
	return c.Send(body)
}

// hls serves /hls/{token}/{seq}.ts and /hls/{token}/index.m3u8.
func (h *Handler) hls(c *fiber.Ctx) error {
	r, ok := h.parseHLS(c)
	if !ok {
		return edge.Empty(c, fiber.StatusForbidden)
	}
	claims, err := h.tokens.Verify(r.token, h.now(), r.client.ip)
	want := token.KindSegment
	if r.index {
		want = token.KindSession
	}
	if err != nil || claims.Kind != want || claims.SessionID == [16]byte{} {
		return edge.Empty(c, fiber.StatusForbidden)
	}
	if r.index {
		return h.sessionPlaylist(c, r, claims)
	}
	if !r.seqOK {
		return notFound(c)
	}
	if !h.d.Access.SegmentAllowed(claims.LineID, claims.SessionID) {
		return edge.Empty(c, fiber.StatusForbidden) // the session ended: its links with it
	}
	data, err := h.d.Relay.Segment(claims.StreamID, r.seq, sessionKey(claims.SessionID))
	if err != nil {
		return edge.Empty(c, fiber.StatusForbidden) // spec §2.3: a missing segment is 403
	}
	h.metrics.bytesHLS.Add(float64(len(data)))
	c.Set(fiber.HeaderContentType, "video/mp2t")
	c.Set(fiber.HeaderCacheControl, "private, max-age=60")
	// Relay segments are immutable: the response may reference them without a copy.
	c.Response().SetBodyRaw(data)
	return nil
}

// sessionPlaylist serves the playlist of a play-token HLS session: every poll is a full check
// (which also keeps the session's lease alive, or refuses a killed or replaced one).
func (h *Handler) sessionPlaylist(c *fiber.Ctx, r hlsRequest, claims token.Claims) error {
	st, ok := h.d.Catalog.Current().Stream(claims.StreamID)
	if !ok || !st.IsLive() || len(st.Sources) == 0 {
		return notFound(c)
	}
	req := r.client.request(access.PlayToken{Token: r.token, Kind: token.KindSession})
	req.StreamOpen, req.StreamID, req.Format, req.Container = true, st.ID, formatHLS, conns.ContainerHLS
	return h.open(c, req, func(_ *edge.Open, d access.Decision) error {
		return h.mediaPlaylist(c, d.Line.ID, st, d.Lease.ID, r.client)
	})
}
