// Package config holds xtreamd's configuration: one Config, filled from flags, then XTREAMD_*
// environment variables, then defaults. The option table below is the single source of the
// flags, the environment names and the README's configuration table.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Secret is a configuration value that must never be printed or logged.
type Secret string

// String hides the value from fmt.
func (Secret) String() string { return "[redacted]" }

// LogValue hides the value from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// GoString hides the value from %#v.
func (Secret) GoString() string { return "[redacted]" }

// Reveal returns the value: the one grep-able way out.
func (s Secret) Reveal() string { return string(s) }

// Config is the whole configuration of one xtreamd process.
type Config struct {
	Listen          string
	DataDir         string
	DatabaseURL     Secret
	DBMaxConns      int
	PublicHost      string
	PublicPort      int
	PublicHTTPSPort int
	PublicScheme    string
	PublicRTMPPort  int
	GeoIPCountryDB  string
	GeoIPISPDB      string
	TokenSecret     Secret
	TrustedProxies  []netip.Prefix
	TimezoneName    string
	Timezone        *time.Location
	LogFormat       string
	LogLevel        slog.Level
	InstanceID      string
	ShutdownTimeout time.Duration
	MetricsListen   string

	// Redirect mode (app/stream): stream opens answered 302 to a signed edge URL.
	StreamRedirect         string // "", "secure_link" or "edgeauth"
	StreamRedirectURL      string
	StreamRedirectSecret   Secret
	StreamRedirectTTL      time.Duration
	StreamRedirectTemplate string

	// Sources (internal/source, internal/relay): where local files may be served from and how
	// upstream HTTP is fetched.
	MediaDirs                []string      // local sources are served only from inside these
	UpstreamIdleTimeout      time.Duration // a VOD or catch-up upstream silent this long ends the response
	UpstreamPrivateRedirects bool          // redirects may lead to loopback/private/link-local addresses
	// SecretFiles are the *_FILE paths secrets were read from (never served as media).
	SecretFiles []string

	Demo              bool
	DemoUsername      string
	DemoPassword      string
	DemoMAC           string
	DemoAdminPassword string

	// Flood protection (internal/access, internal/credential): process resources; the limits
	// themselves are panel settings.
	HashQueueWait    time.Duration
	RateLimitClients int
	// PortalClientDir holds a Stalker client bundle served at /c/ and /stalker_portal/c/ (app/portal).
	PortalClientDir string
	// Heavy downloads (app/player: get.php playlists, xmltv.php guides) one line, and one
	// client address, may run at once on this instance; more answer 429.
	DownloadsPerLine int
	DownloadsPerIP   int
	// GuideCacheBytes is what app/player may keep of gzip-compressed guide documents, shared by
	// every line of the same bouquets (epg.Documents); 0 is DefaultGuideCacheBytes, a negative
	// value keeps none.
	GuideCacheBytes int64
	// CredentialRecordTTL is the life of a shared verified-credential record (internal/access
	// records.go); 0 keeps none.
	CredentialRecordTTL time.Duration
}

// Defaults of the download limits; a zero Config field means the default too.
const (
	DefaultDownloadsPerLine = 2
	DefaultDownloadsPerIP   = 4
	DefaultGuideCacheBytes  = 128 << 20
)

// Option is one configuration setting: its flag, environment variable, default and meaning.
type Option struct {
	Flag    string
	Env     string
	Default string
	Usage   string
	Secret  bool // also read from Env+"_FILE"; never printed
	Bool    bool // a switch: --flag alone means true
	List    bool // the flag may be repeated; the values (and the env value) are comma-separated
	set     func(c *Config, v string) error
}

// Options returns the table of every setting, in README order.
func Options() []Option {
	return []Option{
		{Flag: "listen", Env: "XTREAMD_LISTEN", Default: ":25461",
			Usage: "address the HTTP server listens on (IPv4 and IPv6); 25461 is the port Xtream clients assume",
			set:   func(c *Config, v string) error { c.Listen = v; return nil }},
		{Flag: "data-dir", Env: "XTREAMD_DATA_DIR", Default: "data",
			Usage: "directory for the private PostgreSQL cluster (when DATABASE_URL is empty), the generated token secret and the channels watched at the last stop (relay-warm.json)",
			set:   func(c *Config, v string) error { c.DataDir = v; return nil }},
		{Flag: "database-url", Env: "DATABASE_URL", Default: "",
			Usage:  "PostgreSQL connection URL; empty starts a private cluster under the data dir from the local PostgreSQL binaries",
			Secret: true, set: func(c *Config, v string) error { c.DatabaseURL = Secret(v); return nil }},
		{Flag: "db-max-conns", Env: "XTREAMD_DB_MAX_CONNS", Default: "16",
			Usage: "maximum PostgreSQL connections of this instance's pool",
			set:   func(c *Config, v string) (err error) { c.DBMaxConns, err = parsePositive(v); return err }},
		{Flag: "public-host", Env: "XTREAMD_PUBLIC_HOST", Default: "localhost",
			Usage: "host name or IP advertised to clients (server_info.url) and used in every stream URL",
			set:   func(c *Config, v string) error { c.PublicHost = v; return nil }},
		{Flag: "public-port", Env: "XTREAMD_PUBLIC_PORT", Default: "0",
			Usage: "HTTP port advertised to clients; 0 means the port of --listen (set it behind a reverse proxy)",
			set:   func(c *Config, v string) (err error) { c.PublicPort, err = parsePort(v, true); return err }},
		{Flag: "public-https-port", Env: "XTREAMD_PUBLIC_HTTPS_PORT", Default: "25463",
			Usage: "HTTPS port advertised to clients (server_info.https_port)",
			set:   func(c *Config, v string) (err error) { c.PublicHTTPSPort, err = parsePort(v, false); return err }},
		{Flag: "public-scheme", Env: "XTREAMD_PUBLIC_SCHEME", Default: "http",
			Usage: "scheme of the advertised URLs: http or https (server_info.server_protocol)",
			set:   func(c *Config, v string) error { c.PublicScheme = v; return nil }},
		{Flag: "public-rtmp-port", Env: "XTREAMD_PUBLIC_RTMP_PORT", Default: "25462",
			Usage: "RTMP port advertised to clients (server_info.rtmp_port); xtreamd serves no RTMP itself",
			set:   func(c *Config, v string) (err error) { c.PublicRTMPPort, err = parsePort(v, false); return err }},
		{Flag: "geoip-country-db", Env: "XTREAMD_GEOIP_COUNTRY_DB", Default: "",
			Usage: "path of a MaxMind-format country or city database (GeoLite2/GeoIP2/DB-IP); reloaded when the file changes",
			set:   func(c *Config, v string) error { c.GeoIPCountryDB = v; return nil }},
		{Flag: "geoip-isp-db", Env: "XTREAMD_GEOIP_ISP_DB", Default: "",
			Usage: "path of a MaxMind-format ISP or ASN database (GeoIP2-ISP, GeoLite2-ASN, DB-IP ASN); reloaded when the file changes",
			set:   func(c *Config, v string) error { c.GeoIPISPDB = v; return nil }},
		{Flag: "token-secret", Env: "XTREAMD_TOKEN_SECRET", Default: "",
			Usage:  "secret (at least 32 characters) signing play and segment tokens; empty: generated once into `<data-dir>/token-secret`. Every instance of a cluster needs the same one",
			Secret: true, set: func(c *Config, v string) error { c.TokenSecret = Secret(v); return nil }},
		{Flag: "trusted-proxies", Env: "XTREAMD_TRUSTED_PROXIES", Default: "",
			Usage: "comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For / X-Real-IP is believed",
			set:   func(c *Config, v string) (err error) { c.TrustedProxies, err = ParsePrefixList(v); return err }},
		{Flag: "timezone", Env: "XTREAMD_TIMEZONE", Default: "UTC",
			Usage: "IANA time zone of the panel: server_info.timezone, EPG and timeshift local times",
			set:   setTimezone},
		{Flag: "log-format", Env: "XTREAMD_LOG_FORMAT", Default: "text",
			Usage: "log format: text or json",
			set:   func(c *Config, v string) error { c.LogFormat = v; return nil }},
		{Flag: "log-level", Env: "XTREAMD_LOG_LEVEL", Default: "info",
			Usage: "log level: debug, info, warn or error",
			set:   func(c *Config, v string) error { return c.LogLevel.UnmarshalText([]byte(v)) }},
		{Flag: "instance-id", Env: "XTREAMD_INSTANCE_ID", Default: "",
			Usage: "name of this instance in connection leases; empty: host name plus a random suffix",
			set:   func(c *Config, v string) error { c.InstanceID = v; return nil }},
		{Flag: "shutdown-timeout", Env: "XTREAMD_SHUTDOWN_TIMEOUT", Default: "10s",
			Usage: "how long a graceful shutdown waits for open requests before closing them",
			set: func(c *Config, v string) (err error) {
				c.ShutdownTimeout, err = time.ParseDuration(v)
				return err
			}},
		{Flag: "metrics-listen", Env: "XTREAMD_METRICS_LISTEN", Default: "",
			Usage: "separate address for /metrics (e.g. 127.0.0.1:9461); empty serves /metrics on --listen",
			set:   func(c *Config, v string) error { c.MetricsListen = v; return nil }},
		{Flag: "stream-redirect", Env: "XTREAMD_STREAM_REDIRECT", Default: "",
			Usage: "redirect mode: answer live TS, movie, episode and catch-up opens with a 302 to a signed edge URL instead of relaying: `secure_link` (nginx) or `edgeauth` (Akamai EdgeAuth v2); empty relays (see Streams)",
			set:   func(c *Config, v string) error { c.StreamRedirect = v; return nil }},
		{Flag: "stream-redirect-url", Env: "XTREAMD_STREAM_REDIRECT_URL", Default: "",
			Usage: "base URL of the edge in redirect mode, e.g. https://edge.example.com (the edge path is appended)",
			set:   func(c *Config, v string) error { c.StreamRedirectURL = v; return nil }},
		{Flag: "stream-redirect-secret", Env: "XTREAMD_STREAM_REDIRECT_SECRET", Default: "",
			Usage:  "redirect mode signing secret: the secure_link secret, or the EdgeAuth key as hex",
			Secret: true, set: func(c *Config, v string) error { c.StreamRedirectSecret = Secret(v); return nil }},
		{Flag: "stream-redirect-ttl", Env: "XTREAMD_STREAM_REDIRECT_TTL", Default: "30s",
			Usage: "lifetime of a redirect link; the viewer's connection slot is held as long",
			set: func(c *Config, v string) (err error) {
				c.StreamRedirectTTL, err = time.ParseDuration(v)
				return err
			}},
		{Flag: "stream-redirect-template", Env: "XTREAMD_STREAM_REDIRECT_TEMPLATE", Default: "{expires}{uri}{ip} {secret}",
			Usage: "secure_link mode: the string nginx's secure_link_md5 hashes, with {expires} {uri} {ip} {secret}",
			set:   func(c *Config, v string) error { c.StreamRedirectTemplate = v; return nil }},
		{Flag: "media-dir", Env: "XTREAMD_MEDIA_DIRS", Default: "", List: true,
			Usage: "directory local (file:// or absolute path) sources may be served from: repeat the flag or separate with commas. Symbolic links are resolved when a file is opened, and nothing inside the data dir or a secret file is ever served; empty serves no local file (with --demo the demo clip's directory is added)",
			set:   func(c *Config, v string) error { c.MediaDirs = splitList(v); return nil }},
		{Flag: "upstream-idle-timeout", Env: "XTREAMD_UPSTREAM_IDLE_TIMEOUT", Default: "30s",
			Usage: "a movie, episode or catch-up upstream that sends nothing for this long ends the response (and frees the viewer's slot)",
			set: func(c *Config, v string) (err error) {
				c.UpstreamIdleTimeout, err = time.ParseDuration(v)
				return err
			}},
		{Flag: "upstream-private-redirects", Env: "XTREAMD_UPSTREAM_PRIVATE_REDIRECTS", Default: "false", Bool: true,
			Usage: "let an upstream redirect (or an HLS playlist on another host) lead to a loopback, private, link-local or unspecified address; off, only the configured source URLs themselves may",
			set: func(c *Config, v string) (err error) {
				c.UpstreamPrivateRedirects, err = strconv.ParseBool(v)
				return err
			}},
		{Flag: "demo", Env: "XTREAMD_DEMO", Default: "false", Bool: true,
			Usage: "load (idempotently) a demo catalog that really plays, a demo line, a MAG device bound to it and an admin",
			set: func(c *Config, v string) (err error) {
				c.Demo, err = strconv.ParseBool(v)
				return err
			}},
		{Flag: "demo-username", Env: "XTREAMD_DEMO_USERNAME", Default: "demo",
			Usage: "username of the demo line (with --demo)",
			set:   func(c *Config, v string) error { c.DemoUsername = v; return nil }},
		{Flag: "demo-password", Env: "XTREAMD_DEMO_PASSWORD", Default: "demo",
			Usage: "password of the demo line (with --demo)",
			set:   func(c *Config, v string) error { c.DemoPassword = v; return nil }},
		{Flag: "demo-mac", Env: "XTREAMD_DEMO_MAC", Default: "00:1A:79:00:00:01",
			Usage: "MAC address of the demo MAG device, bound to the demo line (with --demo)",
			set:   func(c *Config, v string) error { c.DemoMAC = v; return nil }},
		{Flag: "demo-admin-password", Env: "XTREAMD_DEMO_ADMIN_PASSWORD", Default: "admin",
			Usage: "password of the demo admin account \"admin\" (with --demo)",
			set:   func(c *Config, v string) error { c.DemoAdminPassword = v; return nil }},
		{Flag: "hash-queue-wait", Env: "XTREAMD_HASH_QUEUE_WAIT", Default: "5s",
			Usage: "longest a login waits for a password-hashing slot (one per CPU) before it is answered \"unavailable\" in its surface's format (players and streams: 503), so a flood of logins is shed instead of queued",
			set: func(c *Config, v string) (err error) {
				c.HashQueueWait, err = time.ParseDuration(v)
				return err
			}},
		{Flag: "rate-limit-clients", Env: "XTREAMD_RATE_LIMIT_CLIENTS", Default: "100000",
			Usage: "clients (IPv4 addresses, IPv6 /64s) each per-client rate limit (requests, stream opens) keeps in memory, about 60 bytes each; beyond it, buckets that refilled are forgotten first",
			set:   func(c *Config, v string) (err error) { c.RateLimitClients, err = parsePositive(v); return err }},
		{Flag: "portal-client-dir", Env: "XTREAMD_PORTAL_CLIENT_DIR", Default: "",
			Usage: "directory holding a Stalker (MAG) client bundle (index.html, xpcom.common.js ...) served at /c/ and /stalker_portal/c/; empty serves only a minimal xpcom.common.js and version.js that headless clients read (see MAG / Stalker)",
			set:   func(c *Config, v string) error { c.PortalClientDir = v; return nil }},
		{Flag: "downloads-per-line", Env: "XTREAMD_DOWNLOADS_PER_LINE", Default: strconv.Itoa(DefaultDownloadsPerLine),
			Usage: "playlist (get.php) and guide (xmltv.php) downloads one line may run at once on this instance; more answer 429 (see Security model)",
			set:   func(c *Config, v string) (err error) { c.DownloadsPerLine, err = parsePositive(v); return err }},
		{Flag: "downloads-per-ip", Env: "XTREAMD_DOWNLOADS_PER_IP", Default: strconv.Itoa(DefaultDownloadsPerIP),
			Usage: "playlist and guide downloads one client address (an IPv6 /64) may run at once on this instance; more answer 429",
			set:   func(c *Config, v string) (err error) { c.DownloadsPerIP, err = parsePositive(v); return err }},
		{Flag: "guide-cache-mb", Env: "XTREAMD_GUIDE_CACHE_MB", Default: strconv.Itoa(DefaultGuideCacheBytes >> 20),
			Usage: "MB of gzip-compressed guide answers kept in memory (xmltv.php per hour, the portal's get_epg_info per minute): the lines of the same bouquets share one per EPG version, so only the first ask reads the programmes; an answer larger than a quarter of it is built per ask; 0 keeps none",
			set: func(c *Config, v string) error {
				mb, err := strconv.Atoi(v)
				if err != nil || mb < 0 || mb > 1<<20 {
					return fmt.Errorf("%q: want a whole number of MB from 0 to %d", v, 1<<20)
				}
				c.GuideCacheBytes = int64(mb) << 20
				if mb == 0 {
					c.GuideCacheBytes = -1
				}
				return nil
			}},
		{Flag: "credential-record-ttl", Env: "XTREAMD_CREDENTIAL_RECORD_TTL", Default: "24h",
			Usage: "how long a verified-credential record lives after it was last written: a MAC of a line's username, password and stored hash under a pepper derived from the token secret (never stored in the database), kept in the database so that any instance, also one just restarted, admits a viewer verified before without hashing; 0 keeps none (see Security model)",
			set: func(c *Config, v string) (err error) {
				c.CredentialRecordTTL, err = time.ParseDuration(v)
				return err
			}},
	}
}

// Bind registers every option as a flag on fs. Call Load after fs.Parse.
func Bind(fs *flag.FlagSet) {
	for _, o := range Options() {
		switch {
		case o.Bool:
			def, _ := strconv.ParseBool(o.Default)
			fs.Bool(o.Flag, def, o.Usage)
		case o.List:
			fs.Var(&listValue{}, o.Flag, o.Usage)
		default:
			fs.String(o.Flag, o.Default, o.Usage)
		}
	}
}

// listValue is a flag that may be given several times; its value is the comma-joined list.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }

func (l *listValue) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// splitList splits a comma-separated list, dropping empty elements and surrounding space.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Load builds the Config from the parsed flag set (flags win), then getenv, then defaults, and
// validates it. Every problem is reported, joined.
func Load(fs *flag.FlagSet, getenv func(string) string) (Config, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var c Config
	var errs []error
	for _, o := range Options() {
		v, source, err := value(o, fs, set, getenv)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := o.set(&c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", source, err))
		}
		if source == o.Env+"_FILE" {
			c.SecretFiles = append(c.SecretFiles, getenv(o.Env+"_FILE"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

func value(o Option, fs *flag.FlagSet, set map[string]bool, getenv func(string) string) (v, source string, err error) {
	if set[o.Flag] {
		return fs.Lookup(o.Flag).Value.String(), "--" + o.Flag, nil
	}
	if v := getenv(o.Env); v != "" {
		return v, o.Env, nil
	}
	if o.Secret {
		if path := getenv(o.Env + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", "", fmt.Errorf("%s_FILE: %w", o.Env, err)
			}
			return strings.TrimSpace(string(b)), o.Env + "_FILE", nil
		}
	}
	return o.Default, "default of --" + o.Flag, nil
}

// Validate reports every inconsistent setting at once.
func (c *Config) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: want host:port", c.Listen))
	} else if _, err := parsePort(port, true); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: %w", c.Listen, err))
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if c.PublicHost == "" || strings.ContainsAny(c.PublicHost, "/:?# ") && !isIPv6(c.PublicHost) {
		errs = append(errs, fmt.Errorf("--public-host %q: want a bare host name or IP, without scheme or port", c.PublicHost))
	}
	if c.PublicScheme != "http" && c.PublicScheme != "https" {
		errs = append(errs, fmt.Errorf("--public-scheme %q: want http or https", c.PublicScheme))
	}
	if s := c.TokenSecret.Reveal(); s != "" && len(s) < 32 {
		errs = append(errs, errors.New("--token-secret: must be at least 32 characters"))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("--log-format %q: want text or json", c.LogFormat))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--shutdown-timeout %v: must be positive", c.ShutdownTimeout))
	}
	if c.HashQueueWait <= 0 {
		errs = append(errs, fmt.Errorf("--hash-queue-wait %v: must be positive", c.HashQueueWait))
	}
	if c.CredentialRecordTTL < 0 {
		errs = append(errs, fmt.Errorf("--credential-record-ttl %v: must not be negative", c.CredentialRecordTTL))
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-listen %q: want host:port", c.MetricsListen))
		}
	}
	errs = append(errs, c.validateRedirect()...)
	errs = append(errs, c.validateSources()...)
	if c.PortalClientDir != "" {
		if fi, err := os.Stat(c.PortalClientDir); err != nil || !fi.IsDir() {
			errs = append(errs, fmt.Errorf("--portal-client-dir %q: not a directory", c.PortalClientDir))
		}
	}
	return errors.Join(errs...)
}

func (c *Config) validateSources() []error {
	var errs []error
	for _, d := range c.MediaDirs {
		switch {
		case !filepath.IsAbs(d):
			errs = append(errs, fmt.Errorf("--media-dir %q: want an absolute path", d))
		case filepath.Clean(d) == "/":
			errs = append(errs, errors.New("--media-dir /: name the media directories, not the whole file system"))
		}
	}
	if c.UpstreamIdleTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--upstream-idle-timeout %v: must be positive", c.UpstreamIdleTimeout))
	}
	return errs
}

func (c *Config) validateRedirect() []error {
	var errs []error
	switch c.StreamRedirect {
	case "":
		return nil
	case "secure_link", "edgeauth":
	default:
		errs = append(errs, fmt.Errorf("--stream-redirect %q: want secure_link, edgeauth or empty", c.StreamRedirect))
	}
	if u, err := url.Parse(c.StreamRedirectURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("--stream-redirect-url %q: want an absolute http(s) URL", c.StreamRedirectURL))
	}
	if c.StreamRedirectSecret == "" {
		errs = append(errs, errors.New("--stream-redirect-secret: required in redirect mode"))
	}
	if c.StreamRedirectTTL <= 0 {
		errs = append(errs, fmt.Errorf("--stream-redirect-ttl %v: must be positive", c.StreamRedirectTTL))
	}
	return errs
}

// AdvertisedPort is the HTTP port put into server_info and stream URLs.
func (c *Config) AdvertisedPort() int {
	if c.PublicPort != 0 {
		return c.PublicPort
	}
	_, p, _ := net.SplitHostPort(c.Listen)
	n, _ := strconv.Atoi(p)
	return n
}

// PublicBaseURL is the advertised scheme, host and HTTP port (never a request's Host header):
// the prefix of the URLs handed to clients.
func (c *Config) PublicBaseURL() string {
	scheme, host := "http", c.PublicHost
	if c.PublicScheme == "https" {
		scheme = "https"
	}
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(c.AdvertisedPort()))
}

// EnsureTokenSecret fills TokenSecret from <data-dir>/token-secret, creating that file with 32
// random bytes on first use, unless a secret was configured.
func (c *Config) EnsureTokenSecret() error {
	if c.TokenSecret != "" {
		return nil
	}
	path := filepath.Join(c.DataDir, "token-secret")
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			c.TokenSecret = Secret(s)
			return nil
		}
		return fmt.Errorf("token secret %s: shorter than 32 characters", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("token secret: %w", err)
	}
	// Traversable (not listable) by others: as root, the private cluster below runs as postgres.
	if err := os.MkdirAll(c.DataDir, 0o711); err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, raw); err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	s := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("token secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("token secret: %w", err)
	}
	c.TokenSecret = Secret(s)
	return nil
}

// ParsePrefixList parses a comma-separated list of IPs and CIDRs. A bare IP becomes a /32 or
// /128; IPv4-mapped IPv6 addresses are unmapped.
func ParsePrefixList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := ParsePrefix(part)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// ParsePrefix parses one IP or CIDR into a masked prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP or CIDR", s)
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP or CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func setTimezone(c *Config, v string) error {
	loc, err := time.LoadLocation(v)
	if err != nil {
		return fmt.Errorf("unknown time zone %q", v)
	}
	c.TimezoneName, c.Timezone = v, loc
	return nil
}

func parsePort(v string, zeroOK bool) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 65535 || (n == 0 && !zeroOK) {
		return 0, fmt.Errorf("%q is not a port number", v)
	}
	return n, nil
}

func parsePositive(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive number", v)
	}
	return n, nil
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

// MarkdownTable renders the option table for the README.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	for _, o := range Options() {
		env := "`" + o.Env + "`"
		if o.Secret {
			env += " (or `" + o.Env + "_FILE`)"
		}
		def := "`" + o.Default + "`"
		if o.Default == "" {
			def = "(empty)"
		}
		flagName := "`--" + o.Flag + "`"
		if o.List {
			flagName += " (repeatable)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", flagName, env, def, o.Usage)
	}
	return b.String()
}
