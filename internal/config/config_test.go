package config

import (
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	Bind(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(fs, func(k string) string { return env[k] })
}

func TestLoad_Precedence(t *testing.T) {
	t.Parallel()
	c, err := load(t, []string{"--listen", ":8080"}, map[string]string{"XTREAMD_LISTEN": ":9090", "XTREAMD_PUBLIC_HOST": "tv.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8080" {
		t.Errorf("Listen = %q, want the flag's :8080", c.Listen)
	}
	if c.PublicHost != "tv.example.com" {
		t.Errorf("PublicHost = %q, want the env value", c.PublicHost)
	}
	if c.DataDir != "data" || c.TimezoneName != "UTC" || c.AdvertisedPort() != 8080 {
		t.Errorf("defaults: DataDir %q, tz %q, port %d", c.DataDir, c.TimezoneName, c.AdvertisedPort())
	}
}

func TestLoad_BoolSwitch(t *testing.T) {
	t.Parallel()
	c, err := load(t, []string{"--demo", "--listen", ":1234"}, nil)
	if err != nil || !c.Demo || c.Listen != ":1234" {
		t.Fatalf("--demo followed by a flag: Demo=%v Listen=%q err=%v", c.Demo, c.Listen, err)
	}
	c, err = load(t, nil, map[string]string{"XTREAMD_DEMO": "true"})
	if err != nil || !c.Demo {
		t.Fatalf("XTREAMD_DEMO=true: Demo=%v err=%v", c.Demo, err)
	}
	c, _ = load(t, nil, nil)
	if c.Demo {
		t.Fatal("demo on by default")
	}
}

func TestLoad_SecretFromFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(path, []byte(strings.Repeat("k", 40)+"\n"), 0o600)
	c, err := load(t, nil, map[string]string{"XTREAMD_TOKEN_SECRET_FILE": path, "DATABASE_URL": "postgres://u:hunter2@h/db"})
	if err != nil {
		t.Fatal(err)
	}
	if c.TokenSecret.Reveal() != strings.Repeat("k", 40) {
		t.Errorf("TokenSecret from file = %q", c.TokenSecret.Reveal())
	}
	for _, s := range []string{c.DatabaseURL.String(), c.TokenSecret.String()} {
		if s != "[redacted]" {
			t.Errorf("secret printed as %q", s)
		}
	}
}

func TestLoad_ReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := load(t, []string{"--listen", "nope", "--public-scheme", "ftp", "--log-format", "xml", "--token-secret", "short", "--trusted-proxies", "10.0.0.0/8,bogus"}, nil)
	if err == nil {
		t.Fatal("Load accepted a bad configuration")
	}
	for _, want := range []string{"bogus"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	_, err = load(t, []string{"--listen", "nope", "--public-scheme", "ftp", "--log-format", "xml", "--token-secret", "short"}, nil)
	for _, want := range []string{"--listen", "--public-scheme", "--log-format", "--token-secret"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestEnsureTokenSecret(t *testing.T) {
	t.Parallel()
	c := Config{DataDir: filepath.Join(t.TempDir(), "d")}
	if err := c.EnsureTokenSecret(); err != nil {
		t.Fatal(err)
	}
	first := c.TokenSecret
	c2 := Config{DataDir: c.DataDir}
	if err := c2.EnsureTokenSecret(); err != nil {
		t.Fatal(err)
	}
	if c2.TokenSecret != first || len(first.Reveal()) != 64 {
		t.Fatalf("second load = %d chars, equal %v; want the same 64-char secret", len(c2.TokenSecret.Reveal()), c2.TokenSecret == first)
	}
	fi, _ := os.Stat(filepath.Join(c.DataDir, "token-secret"))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token-secret mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestParsePrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"10.0.0.1", "10.0.0.1/32", true},
		{"10.1.2.3/8", "10.0.0.0/8", true},
		{"::ffff:10.0.0.1", "10.0.0.1/32", true},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", true},
		{"2001:db8::1", "2001:db8::1/128", true},
		{"fe80::1%eth0", "", false},
		{"10.0.0.0/33", "", false},
		{"host.example", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		p, err := ParsePrefix(tt.in)
		if (err == nil) != tt.ok || (tt.ok && p.String() != tt.want) {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s ok=%v", tt.in, p, err, tt.want, tt.ok)
		}
	}
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.0/8", "::ffff:1.2.3.4/120", "2001:db8::/32", "x", "1.2.3.4/-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		if err != nil {
			return
		}
		back, err := ParsePrefix(p.String())
		if err != nil || back != p {
			t.Fatalf("ParsePrefix(%q) = %v does not round-trip: %v %v", s, p, back, err)
		}
		if p != p.Masked() || p.Addr().Is4In6() {
			t.Fatalf("ParsePrefix(%q) = %v not canonical", s, p)
		}
		_ = netip.Prefix{}
	})
}

// TestREADMETable keeps the README's configuration table equal to the option list.
func TestREADMETable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<!-- config-table:begin -->\n"+MarkdownTable()+"<!-- config-table:end -->") {
		t.Fatal("README.md configuration table is stale: replace it with the output of `go run ./cmd/xtreamd config-table`")
	}
}

func TestLoad_StreamRedirect(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, nil)
	if err != nil || c.StreamRedirect != "" || c.StreamRedirectTTL.String() != "30s" {
		t.Fatalf("default redirect mode = %q ttl %v, %v; want off, 30s", c.StreamRedirect, c.StreamRedirectTTL, err)
	}
	c, err = load(t, []string{"--stream-redirect", "secure_link", "--stream-redirect-url", "https://edge.example.com"},
		map[string]string{"XTREAMD_STREAM_REDIRECT_SECRET": "s3cret"})
	if err != nil || c.StreamRedirectSecret.Reveal() != "s3cret" || c.StreamRedirectTemplate != "{expires}{uri}{ip} {secret}" {
		t.Fatalf("secure_link mode: %+v, %v", c, err)
	}
	_, err = load(t, []string{"--stream-redirect", "cdn", "--stream-redirect-url", "edge", "--stream-redirect-ttl", "-1s"}, nil)
	for _, want := range []string{"--stream-redirect \"cdn\"", "--stream-redirect-url", "--stream-redirect-secret", "--stream-redirect-ttl"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestLoad_Sources(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, nil)
	if err != nil || c.MediaDirs != nil || c.UpstreamIdleTimeout.String() != "30s" || c.UpstreamPrivateRedirects {
		t.Fatalf("defaults: media %v, idle %v, private redirects %v, %v", c.MediaDirs, c.UpstreamIdleTimeout,
			c.UpstreamPrivateRedirects, err)
	}
	c, err = load(t, []string{"--media-dir", "/srv/films", "--media-dir", "/srv/shows, /srv/rec", "--upstream-private-redirects",
		"--upstream-idle-timeout", "5s"}, map[string]string{"XTREAMD_MEDIA_DIRS": "/ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.MediaDirs, "|"); got != "/srv/films|/srv/shows|/srv/rec" || !c.UpstreamPrivateRedirects ||
		c.UpstreamIdleTimeout.String() != "5s" {
		t.Fatalf("flags: media %q, private redirects %v, idle %v", got, c.UpstreamPrivateRedirects, c.UpstreamIdleTimeout)
	}
	c, err = load(t, nil, map[string]string{"XTREAMD_MEDIA_DIRS": "/srv/a,/srv/b"})
	if err != nil || strings.Join(c.MediaDirs, "|") != "/srv/a|/srv/b" {
		t.Fatalf("env: media %v, %v", c.MediaDirs, err)
	}
	_, err = load(t, []string{"--media-dir", "relative", "--media-dir", "/", "--upstream-idle-timeout", "0s"}, nil)
	for _, want := range []string{`--media-dir "relative"`, "--media-dir /:", "--upstream-idle-timeout 0s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad source settings: err = %v, want it to name %s", err, want)
		}
	}
}

func TestLoad_SecretFilesRecorded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(path, []byte(strings.Repeat("k", 40)), 0o600)
	c, err := load(t, nil, map[string]string{"XTREAMD_TOKEN_SECRET_FILE": path})
	if err != nil || len(c.SecretFiles) != 1 || c.SecretFiles[0] != path {
		t.Fatalf("SecretFiles = %v, %v; want [%s]", c.SecretFiles, err, path)
	}
}

func TestLoad_FloodOptions(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, nil)
	if err != nil || c.HashQueueWait != 5*time.Second || c.RateLimitClients != 100_000 {
		t.Fatalf("defaults: hash queue wait %v, rate limit clients %d, %v; want 5s, 100000", c.HashQueueWait, c.RateLimitClients, err)
	}
	c, err = load(t, []string{"--hash-queue-wait", "750ms"}, map[string]string{"XTREAMD_RATE_LIMIT_CLIENTS": "5000"})
	if err != nil || c.HashQueueWait != 750*time.Millisecond || c.RateLimitClients != 5000 {
		t.Fatalf("set: hash queue wait %v, rate limit clients %d, %v; want 750ms, 5000", c.HashQueueWait, c.RateLimitClients, err)
	}
	for _, args := range [][]string{{"--hash-queue-wait", "0s"}, {"--rate-limit-clients", "0"}} {
		if _, err := load(t, args, nil); err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("load(%q) error %v, want one naming %s", args, err, args[0])
		}
	}
}

func TestLoad_CredentialRecordTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    time.Duration
		wantErr bool
	}{
		{"default", nil, nil, 24 * time.Hour, false},
		{"flag", []string{"--credential-record-ttl", "90m"}, nil, 90 * time.Minute, false},
		{"env, off", nil, map[string]string{"XTREAMD_CREDENTIAL_RECORD_TTL": "0"}, 0, false},
		{"negative", []string{"--credential-record-ttl", "-1h"}, nil, 0, true},
		{"not a duration", nil, map[string]string{"XTREAMD_CREDENTIAL_RECORD_TTL": "a day"}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, tt.args, tt.env)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "credential-record-ttl") && !strings.Contains(err.Error(), "CREDENTIAL_RECORD_TTL") {
					t.Errorf("load = %v, want an error naming the option", err)
				}
				return
			}
			if err != nil || c.CredentialRecordTTL != tt.want {
				t.Errorf("CredentialRecordTTL = %v, %v; want %v", c.CredentialRecordTTL, err, tt.want)
			}
		})
	}
}

func TestLoad_PortalClientDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if c, err := load(t, []string{"--portal-client-dir", dir}, nil); err != nil || c.PortalClientDir != dir {
		t.Fatalf("--portal-client-dir %s = %q, %v", dir, c.PortalClientDir, err)
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{file, filepath.Join(dir, "missing")} {
		if _, err := load(t, nil, map[string]string{"XTREAMD_PORTAL_CLIENT_DIR": bad}); err == nil || !strings.Contains(err.Error(), "--portal-client-dir") {
			t.Errorf("XTREAMD_PORTAL_CLIENT_DIR=%s: %v, want an error naming the option", bad, err)
		}
	}
}

func TestLoad_DownloadLimits(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, nil)
	if err != nil || c.DownloadsPerLine != DefaultDownloadsPerLine || c.DownloadsPerIP != DefaultDownloadsPerIP {
		t.Fatalf("defaults: %d per line, %d per IP, %v", c.DownloadsPerLine, c.DownloadsPerIP, err)
	}
	c, err = load(t, []string{"--downloads-per-line", "1"}, map[string]string{"XTREAMD_DOWNLOADS_PER_IP": "10"})
	if err != nil || c.DownloadsPerLine != 1 || c.DownloadsPerIP != 10 {
		t.Fatalf("set: %d per line, %d per IP, %v", c.DownloadsPerLine, c.DownloadsPerIP, err)
	}
	for _, bad := range []string{"0", "-1", "x"} {
		if _, err := load(t, []string{"--downloads-per-ip", bad}, nil); err == nil {
			t.Errorf("--downloads-per-ip %s accepted", bad)
		}
	}
}

// TestLoad_GuideCache: the guide budget in MB, the default when unset, 0 keeping none.
func TestLoad_GuideCache(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want int64
	}{
		{nil, nil, DefaultGuideCacheBytes},
		{[]string{"--guide-cache-mb", "512"}, nil, 512 << 20},
		{nil, map[string]string{"XTREAMD_GUIDE_CACHE_MB": "1"}, 1 << 20},
		{[]string{"--guide-cache-mb", "0"}, nil, -1},
	} {
		c, err := load(t, tt.args, tt.env)
		if err != nil || c.GuideCacheBytes != tt.want {
			t.Errorf("%v %v: GuideCacheBytes %d, %v; want %d", tt.args, tt.env, c.GuideCacheBytes, err, tt.want)
		}
	}
	for _, bad := range []string{"-1", "x", "1.5", "2000000"} {
		if _, err := load(t, []string{"--guide-cache-mb", bad}, nil); err == nil || !strings.Contains(err.Error(), "--guide-cache-mb") {
			t.Errorf("--guide-cache-mb %s: %v, want an error naming the option", bad, err)
		}
	}
}
