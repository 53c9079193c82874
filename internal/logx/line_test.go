package logx

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestLine_SameBytesAsSlog: a Line is byte for byte the line slog's handler writes for the
// same record, in both formats, whatever the values hold (quotes, spaces, '=', control
// characters, invalid UTF-8, U+2028, HTML characters, non-ASCII, empty).
func TestLine_SameBytesAsSlog(t *testing.T) {
	t.Parallel()
	values := []string{"plain", "", "with space", "a=b", `q"uote`, `back\\slash`, "tab\there", "nl\n", "\x00\x1f\x7f",
		"bad\xffutf8", "line\u2028sep", "<script>&amp;", "Grüße 日本", "\u00a0nbsp", "\ufffd", "IPTVSmartersPro/3.1.5 (Linux; Android 11)"}
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("2001:db8::1"), {}}
	at := time.Date(2026, 12, 1, 12, 0, 0, 120_000_000, time.UTC)
	ctx := WithRequestID(context.Background(), "req-1")
	for _, format := range []string{"text", "json"} {
		for i, v := range values {
			addr := addrs[i%len(addrs)]
			var viaSlog, viaLine bytes.Buffer
			r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
			r.AddAttrs(slog.String("path", v), slog.Int("status", 200), slog.String("client_ip", addr.String()),
				slog.String("user_agent", v))
			if err := New(&viaSlog, format, slog.LevelInfo).Handler().Handle(ctx, r); err != nil {
				t.Fatal(err)
			}
			l := NewLine(ctx, New(&viaLine, format, slog.LevelInfo), slog.LevelInfo, at, "request")
			if l == nil {
				t.Fatal("NewLine = nil for a logger from New")
			}
			l.Bytes("path", append(l.Scratch(), v...))
			l.Int("status", 200)
			l.Addr("client_ip", addr)
			l.String("user_agent", v)
			l.Write(ctx)
			if viaSlog.String() != viaLine.String() {
				t.Errorf("%s %q:\nslog: %s\nline: %s", format, v, viaSlog.String(), viaLine.String())
			}
		}
	}
}

// TestNewLine_FallsBack: NewLine is nil (the caller logs through slog) when the level is off,
// when the logger is derived with attributes a Line would miss, and for a foreign logger.
func TestNewLine_FallsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := New(&bytes.Buffer{}, "text", slog.LevelWarn)
	for name, l := range map[string]*slog.Logger{
		"level off": log,
		"derived":   New(&bytes.Buffer{}, "text", slog.LevelInfo).With("k", "v"),
		"foreign":   slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)),
	} {
		if NewLine(ctx, l, slog.LevelInfo, time.Now(), "request") != nil {
			t.Errorf("%s: NewLine != nil", name)
		}
	}
}

// TestAppendRedacted_NoAllocs: the access log's redaction allocates nothing for the common
// request lines (a login query, a stream path).
func TestAppendRedacted_NoAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendRedactedPath(buf[:0], "/live/alice/secret/1.ts")
		buf = AppendRedactedQuery(buf[:0], "username=alice&password=secret&action=get_live_streams")
	})
	if allocs != 0 {
		t.Errorf("%v allocations per redacted path and query, want 0", allocs)
	}
	if got := string(AppendRedactedQuery(nil, "username=alice&password=secret")); strings.Contains(got, "secret") {
		t.Errorf("AppendRedactedQuery kept the password: %s", got)
	}
}

// TestLine_TimesAsSlog: the per-second time shortcut writes what slog writes, for lines in one
// second and across seconds, whole and odd milliseconds, and zones other than UTC.
func TestLine_TimesAsSlog(t *testing.T) {
	t.Parallel()
	east := time.FixedZone("east", 5*3600+30*60)
	base := time.Date(2026, 12, 1, 23, 59, 59, 0, time.UTC)
	var times []time.Time
	for _, d := range []time.Duration{0, 5 * time.Millisecond, 999*time.Millisecond + 999, time.Second, time.Second + 120*time.Millisecond, 25 * time.Hour} {
		times = append(times, base.Add(d), base.Add(d).In(east))
	}
	var viaSlog, viaLine bytes.Buffer
	log := New(&viaLine, "text", slog.LevelInfo)
	for _, at := range times {
		viaSlog.Reset()
		viaLine.Reset()
		r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
		if err := New(&viaSlog, "text", slog.LevelInfo).Handler().Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		NewLine(context.Background(), log, slog.LevelInfo, at, "request").Write(context.Background())
		if viaSlog.String() != viaLine.String() {
			t.Errorf("%v:\nslog: %sline: %s", at, viaSlog.String(), viaLine.String())
		}
	}
}

// FuzzLineSameBytesAsSlog: for any values (a path, a user agent, a query: what a client
// controls), a Line is byte for byte what slog's handler writes, in both formats.
func FuzzLineSameBytesAsSlog(f *testing.F) {
	for _, v := range []string{"plain", "", "a=b c", `q"uote\`, "\x00\x1f\x7f\t\n", "bad\xffutf8", "line\u2028sep",
		"<script>&amp;", "Grüße 日本", "\u00a0nbsp\u3000", "\ufffd", "IPTVSmartersPro/3.1.5 (Linux; Android 11)"} {
		f.Add(v, v+"/x", int64(len(v)))
	}
	at := time.Date(2026, 12, 1, 12, 0, 0, 120_000_000, time.UTC)
	ctx := WithRequestID(context.Background(), "req-1")
	f.Fuzz(func(t *testing.T, path, agent string, n int64) {
		for _, format := range []string{"text", "json"} {
			var viaSlog, viaLine bytes.Buffer
			r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
			r.AddAttrs(slog.String("path", path), slog.Int64("dur_ms", n), slog.String("user_agent", agent))
			if err := New(&viaSlog, format, slog.LevelInfo).Handler().Handle(ctx, r); err != nil {
				t.Fatal(err)
			}
			l := NewLine(ctx, New(&viaLine, format, slog.LevelInfo), slog.LevelInfo, at, "request")
			l.Bytes("path", append(l.Scratch(), path...))
			l.Int("dur_ms", n)
			l.String("user_agent", agent)
			l.Write(ctx)
			if viaSlog.String() != viaLine.String() {
				t.Fatalf("%s %q %q:\nslog: %s\nline: %s", format, path, agent, viaSlog.String(), viaLine.String())
			}
		}
	})
}

// BenchmarkLine: one access line (the fields and values of a player login) appended and
// written to io.Discard, without Fiber or a request around it: what the line itself costs.
//
//	go test ./internal/logx -run '^$' -bench Line -benchmem
func BenchmarkLine(b *testing.B) {
	log := New(io.Discard, "text", slog.LevelInfo)
	ctx := WithRequestID(context.Background(), "5ffaf4e03d7b00000019b6ff")
	addr := netip.MustParseAddr("127.0.0.1")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		l := NewLine(ctx, log, slog.LevelInfo, now, "request")
		l.String("method", "GET")
		l.Bytes("path", AppendRedactedPath(l.Scratch(), "/player_api.php"))
		l.Int("status", 200)
		l.Int("dur_ms", 0)
		l.Addr("client_ip", addr)
		l.String("user_agent", "IPTVSmartersPro/3.1.5 (Linux; Android 11)")
		l.Bytes("query", AppendRedactedQuery(l.Scratch(), "username=bench&password=bench-pass"))
		l.Write(ctx)
	}
}
