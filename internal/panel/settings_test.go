package panel_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/panel"
)

func TestSettingParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, raw string
		want     any // nil: refused
	}{
		{"connection_policy", `"kick_oldest"`, "kick_oldest"},
		{"connection_policy", `"newest"`, nil},
		{"connection_policy", `3`, nil},
		{"disallow_empty_user_agents", `true`, true},
		{"disallow_empty_user_agents", `"true"`, nil},
		{"flood_auth_failures", `0`, int64(0)},
		{"flood_auth_failures", `12`, int64(12)},
		{"flood_auth_failures", `1.5`, nil},
		{"flood_auth_failures", `-1`, nil},
		{"flood_window_seconds", `0.5`, nil},
		{"flood_window_seconds", `90.5`, 90.5},
		{"rate_limit_per_second", `1e9`, nil},
		{"message", `"héllo"`, "héllo"},
		{"message", `"a\u0000b"`, nil},
		{"message", `null`, nil},
		{"flood_exempt_ips", `["10.1.2.3", "10.1.2.3/32", "::ffff:192.0.2.1", "2001:db8::1/48"]`,
			[]string{"10.1.2.3/32", "192.0.2.1/32", "2001:db8::/48"}},
		{"flood_exempt_ips", `["10.0.0.0/33"]`, nil},
		{"flood_exempt_ips", `"10.0.0.1"`, nil},
		{"stream_rate_limit_burst", `60`, int64(60)},
	}
	// The media directories are the --media-dir start-up option, never a setting.
	if _, ok := panel.Lookup("media_dirs"); ok {
		t.Error("media_dirs is a setting: an admin could widen what the server reads")
	}
	for _, tt := range tests {
		s, ok := panel.Lookup(tt.key)
		if !ok {
			t.Fatalf("no setting %q", tt.key)
		}
		got, err := s.Parse(json.RawMessage(tt.raw))
		if tt.want == nil {
			var fe *input.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.key || !errors.Is(err, input.ErrInvalid) {
				t.Errorf("Parse(%s, %s) = %v, %v; want a refusal on %s", tt.key, tt.raw, got, err, tt.key)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("Parse(%s, %s) = %#v, %v; want %#v", tt.key, tt.raw, got, err, tt.want)
		}
	}
}

// TestSettings_Table: every setting has a key the schema accepts, a kind, a doc, and a default
// its own Parse accepts.
func TestSettings_Table(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range panel.Settings {
		raw, _ := json.Marshal(s.Default)
		if _, err := s.Parse(raw); err != nil || s.Doc == "" || s.Kind == 0 || seen[s.Key] {
			t.Errorf("setting %q: default %s parses to %v, doc %q, kind %v, repeated %v", s.Key, raw, err, s.Doc, s.Kind, seen[s.Key])
		}
		seen[s.Key] = true
	}
}

func FuzzParseNetwork(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.0/8", "::ffff:10.0.0.1", "::ffff:10.0.0.0/104", "fe80::1%eth0", "2001:db8::/129", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := panel.ParseNetwork(s)
		if err != nil {
			return
		}
		back, err := panel.ParseNetwork(p.String())
		if err != nil || back != p || p != p.Masked() || p.Addr().Is4In6() {
			t.Fatalf("ParseNetwork(%q) = %v does not round-trip canonically (%v, %v)", s, p, back, err)
		}
	})
}
