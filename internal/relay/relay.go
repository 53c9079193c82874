// Package relay delivers live channels: one upstream pull per stream, fanned out to every viewer.
//
// A Manager keeps one hub per live stream id. The first viewer (Subscribe) or HLS request (Playlist, Segment)
// starts the hub's upstream pull; when the last one has gone, the pull stops after a grace period, unless
// the stream is always on (Keep), whose pull runs with no viewer so that its first one starts at once. The
// hub reads MPEG-TS packets into a shared ring of fixed-size blocks; viewers hold only a byte position into
// that ring, so a block is written once and read by every viewer without copies. A viewer that falls so far
// behind that the ring overwrites its position skips to the newest keyframe, and is dropped when it keeps
// doing so: a slow client never slows the upstream reader or the other viewers.
//
// Delivery is batched: waiting viewers are woken about ten times a second (Options.WakeBytes,
// WakeInterval), and each then writes everything new in one vectored write over the ring blocks (one
// writev), with no clock read, timer or allocation of its own per write; a hub's watchdog ends a viewer
// whose write stalls (WriteStall). A joiner gets its keyframe at once and the rest of the GOP cache from
// a budget shared by all hubs (BurstRate), so a join storm cannot starve the running viewers.
//
// Sources are tried in order (Source.Kind "ts", "hls", "file" or "auto"): a failing or stalled source fails
// over to the next one, and after all have failed the hub backs off and starts again from the first.
//
// For HLS output, TS sources are cut in-process at keyframes into a sliding window of segments, HLS sources
// are passed through (each upstream segment fetched once per channel); Playlist renders the media playlist
// with segment URLs built by the caller, and Segment returns a segment's bytes by sequence number.
//
// The package uses plain Go APIs only (io.Writer delivery, net/http as the upstream client), so the HTTP
// edge may be Fiber/fasthttp or net/http (the package Example). app/stream, after the access check,
// subscribes with the server's shutdown context, waits for the first keyframe (WaitReady) so that a
// stream that is down is answered 502/503 before committing to a 200, then hijacks the connection and
// writes the response head and the ring straight to the socket, framing the body by closing it:
//
//	v, err := mgr.Subscribe(streamCtx, streamID, sources)
//	if err != nil { … }
//	if err := v.WaitReady(readyCtx); err != nil { v.Close(); … }
//	c.Context().HijackSetNoResponse(true)
//	c.Context().Hijack(func(conn net.Conn) { // runs after the handler returned: no c here
//		defer func() { recover(); v.Close(); lease.Release(ctx) }()
//		tcp := conn.(interface{ UnsafeConn() net.Conn }).UnsafeConn() // the socket itself: writev
//		tcp.Write(header)                // "HTTP/1.1 200 OK … Connection: close"
//		v.WriteTo(streamCtx, tcp, flush) // returns on the first write error: the client is gone
//	})
//
// streamCtx is the server's shutdown context (cancelled before app.ShutdownWithTimeout); flush runs
// after each batch (app/stream hands the bytes to the lease there). NewHTTPClient builds the upstream
// client that the relay and the VOD proxy share.
package relay

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Source kinds accepted in Source.Kind.
const (
	KindTS   = "ts"   // HTTP(S) MPEG-TS
	KindHLS  = "hls"  // HTTP(S) HLS media or master playlist
	KindFile = "file" // a local MPEG-TS file looped forever, paced in real time
	KindAuto = "auto" // guessed from the URL: file:// or a path → file, .m3u8 → hls, else ts
)

// Source is one upstream of a live stream. A stream's sources are tried in order.
type Source struct {
	URL  string // http(s)://… for ts/hls; file:///abs/path or a plain path for file
	Kind string // KindTS, KindHLS, KindFile, KindAuto; empty means KindAuto
}

// ResolvedKind returns the kind the source is read as: Kind, or for KindAuto (and empty) a guess from the URL.
func (s Source) ResolvedKind() string {
	switch k := strings.ToLower(s.Kind); k {
	case KindTS, KindHLS, KindFile:
		return k
	}
	u := strings.ToLower(s.URL)
	switch {
	case strings.HasPrefix(u, "file://"), strings.HasPrefix(u, "/"):
		return KindFile
	case strings.HasSuffix(pathOf(u), ".m3u8"), strings.HasSuffix(pathOf(u), ".m3u"):
		return KindHLS
	}
	return KindTS
}

// pathOf strips the query and fragment of a URL string.
func pathOf(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// Errors returned by the relay. Compare with errors.Is.
var (
	ErrClosed           = errors.New("relay: closed")            // the manager or the hub has shut down
	ErrViewerDropped    = errors.New("relay: viewer dropped")    // the viewer kept falling behind (lag policy)
	ErrViewerStalled    = errors.New("relay: viewer stalled")    // a write took longer than WriteStall
	ErrNoSources        = errors.New("relay: no sources")        // Subscribe/Playlist called with no source
	ErrUpstreamDown     = errors.New("relay: upstream down")     // every source failed in the last round
	ErrSegmentNotFound  = errors.New("relay: segment not found") // unknown stream, or the segment left the window
	ErrPlaylistNotReady = errors.New("relay: playlist not ready")
	ErrFileSourcesOff   = errors.New("relay: file sources are off (no OpenFile)")
)

// Options configure a Manager. The zero value of each field means its default.
type Options struct {
	Logger     *slog.Logger          // default: discard
	Now        func() time.Time      // clock; default time.Now
	HTTPClient *http.Client          // upstream client; default: NewHTTPClient with ConnectTimeout, HTTP/2, PrivateRedirects
	UserAgent  string                // upstream User-Agent; default "xtreamd-relay/1"
	Registerer prometheus.Registerer // optional; metrics are registered here (never the global registry)
	OnEvent    func(Event)           // optional; called synchronously from hub goroutines, must not block
	// OpenFile opens a file source's path for reading; nil refuses every file source. app/server
	// passes source.Files.Open, which serves only from the media directories (with links
	// resolved) and never from the data directory.
	OpenFile func(path string) (*os.File, error)
	// PrivateRedirects is HTTPOptions.PrivateRedirects of the default HTTPClient.
	PrivateRedirects bool

	// Grace is how long a hub keeps pulling after its last viewer left (default 10 s).
	Grace time.Duration
	// HLSIdle is how long an HLS session counts as watching after its last playlist or segment request
	// (default 30 s); the hub keeps pulling while any session is live.
	HLSIdle time.Duration

	// BlockPackets is the size of one ring block in 188-byte packets (default 348, i.e. 65424 bytes).
	BlockPackets int
	// RingBlocks is the most blocks a hub keeps (default 128, 8 MiB): the longest lag a viewer may have.
	// HLS sources are fed a whole segment at a time, so the ring must hold at least two upstream segments
	// (8 MiB is 8 s at 8 Mbit/s: raise it for high-bitrate HLS sources with long segments).
	RingBlocks int
	// RingKeep: blocks wholly older than this and before the newest keyframe are released early (default 20 s),
	// so a low-bitrate channel does not hold RingBlocks of history.
	RingKeep time.Duration
	// PublishBytes and PublishInterval coalesce upstream reads: new data is made visible once at least
	// PublishBytes are pending or PublishInterval has passed since the last publish (defaults 8 KiB, 20 ms).
	// A keyframe is published at once.
	PublishBytes    int
	PublishInterval time.Duration
	// WakeBytes and WakeInterval batch the delivery: waiting TS viewers are woken once WakeBytes are new
	// since the last wake-up or WakeInterval has passed (defaults 128 KiB, 100 ms; checked when data is
	// published), and each then writes all it has in one vectored write. Fewer wake-ups mean fewer,
	// larger writes: at 8 Mbit/s the defaults give ten 100 KB writes a second per viewer, for at most
	// 100 ms of added delay. A hub's viewers are woken in eight cohorts in turn (an eighth of WakeBytes or
	// WakeInterval apart), not all at once, so that a wake-up never queues every viewer's write in front of
	// a new viewer's open. The first keyframe of a stream and a new program wake them all at once.
	WakeBytes    int
	WakeInterval time.Duration
	// BurstRate paces what TS viewers get beyond the channel's own rate: a joiner's GOP cache (after its
	// first 256 KiB, which hold the keyframe) and a laggard's catch-up are served from one budget of
	// BurstRate bytes per second shared by every hub (default 256 MiB/s; negative: unpaced), so a join
	// storm cannot starve the running viewers, who never need the budget.
	BurstRate int64
	// WriteStall ends a TS viewer whose write (one batch) has not completed for this long (default 30 s;
	// negative: never): the hub's watchdog, one ticker per hub, puts the connection's write deadline in
	// the past, so no viewer arms a timer of its own.
	WriteStall time.Duration

	// A viewer that would skip more than MaxSkips times within SkipWindow is dropped instead (defaults 4
	// in 60 s). A negative MaxSkips never drops.
	MaxSkips   int
	SkipWindow time.Duration
	// KeyframeWait: a new viewer waits at most this long for a keyframe before starting mid-GOP (default 6 s).
	KeyframeWait time.Duration

	// ConnectTimeout bounds dialing plus response headers of an upstream request (default 10 s).
	ConnectTimeout time.Duration
	// StallTimeout: an upstream delivering no data for this long has failed (default 10 s).
	StallTimeout time.Duration
	// BackoffMin and BackoffMax bound the pause after every source has failed (defaults 1 s, 30 s); the pause
	// doubles after each failed round.
	BackoffMin, BackoffMax time.Duration
	// HealthyAfter: a source that delivered data this long counts as healthy; its failure starts a new round
	// at source 0 without backoff (default 30 s).
	HealthyAfter time.Duration
	// DownDrop ends a hub's TS viewers with ErrUpstreamDown once every source has kept failing for this
	// long (default 30 s; negative: never; checked after each failed round, so up to one BackoffMax late).
	// Its players then see the stream end and reconnect, and their connection slots are freed, instead
	// of holding a silent connection for as long as the outage lasts. A shorter outage only pauses them.
	DownDrop time.Duration

	// SegmentTarget is the target duration of in-process HLS segments (default 4 s); WindowSegments the number
	// listed in a playlist (default 6). Segments are kept a little longer than listed for late fetches.
	SegmentTarget  time.Duration
	WindowSegments int
	// MaxSegmentBytes caps one segment (upstream or cut in-process; default 32 MiB).
	MaxSegmentBytes int
	// MaxFileBytes caps a file source, which is read into memory (default 64 MiB).
	MaxFileBytes int64
	// FileBitrate paces a file source that carries no PCR (bits per second, default 2 Mbit/s).
	FileBitrate int64
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(i *int, v int) {
		if *i <= 0 {
			*i = v
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UserAgent == "" {
		o.UserAgent = "xtreamd-relay/1"
	}
	def(&o.Grace, 10*time.Second)
	def(&o.HLSIdle, 30*time.Second)
	defInt(&o.BlockPackets, 348)
	defInt(&o.RingBlocks, 128)
	if o.RingBlocks < 4 {
		o.RingBlocks = 4
	}
	def(&o.RingKeep, 20*time.Second)
	defInt(&o.PublishBytes, 8192)
	def(&o.PublishInterval, 20*time.Millisecond)
	defInt(&o.WakeBytes, 128<<10)
	def(&o.WakeInterval, 100*time.Millisecond)
	if o.BurstRate == 0 {
		o.BurstRate = 256 << 20
	}
	if o.WriteStall == 0 {
		o.WriteStall = 30 * time.Second
	}
	if o.MaxSkips == 0 {
		o.MaxSkips = 4
	}
	def(&o.SkipWindow, time.Minute)
	def(&o.KeyframeWait, 6*time.Second)
	def(&o.ConnectTimeout, 10*time.Second)
	def(&o.StallTimeout, 10*time.Second)
	def(&o.BackoffMin, time.Second)
	def(&o.BackoffMax, 30*time.Second)
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	def(&o.HealthyAfter, 30*time.Second)
	if o.DownDrop == 0 {
		o.DownDrop = 30 * time.Second
	}
	def(&o.SegmentTarget, 4*time.Second)
	defInt(&o.WindowSegments, 6)
	defInt(&o.MaxSegmentBytes, 32<<20)
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = 64 << 20
	}
	if o.FileBitrate <= 0 {
		o.FileBitrate = 2_000_000
	}
	if o.HTTPClient == nil {
		o.HTTPClient = NewHTTPClient(HTTPOptions{ConnectTimeout: o.ConnectTimeout, HTTP2: true,
			PrivateRedirects: o.PrivateRedirects})
	}
	return o
}

// EventType says what happened in an Event.
type EventType int

// Event types.
const (
	EventHubStart     EventType = iota + 1 // a hub started pulling
	EventHubStop                           // a hub stopped (idle after the grace period, or shutdown)
	EventUpstreamOpen                      // a source connected and delivered its first bytes
	EventUpstreamFail                      // a source failed (Err says why); the next one is tried
	EventFailover                          // moving from source Source-1 to Source (or back to 0 after a round)
	EventViewerSkip                        // a viewer fell behind and skipped to the newest keyframe
	EventViewerDrop                        // a viewer was dropped by the lag policy
)

var eventNames = [...]string{"", "hub_start", "hub_stop", "upstream_open", "upstream_fail", "failover",
	"viewer_skip", "viewer_drop"}

// String returns the event's snake_case name.
func (t EventType) String() string {
	if int(t) < len(eventNames) && t > 0 {
		return eventNames[t]
	}
	return fmt.Sprintf("event(%d)", int(t))
}

// Event reports a hub's lifecycle and upstream changes, for logging, metrics and tests.
type Event struct {
	Type     EventType
	StreamID int64
	Source   int   // index into the stream's sources, where relevant
	Err      error // for EventUpstreamFail
}
