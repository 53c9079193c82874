package portal

import "testing"

// TestLocaleName: set_locale keeps what a box names a locale by ("en_GB.utf8"), nothing else
// (an injection, an address, a path): get_profile hands it back to every box start.
func TestLocaleName(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"en_GB.utf8", "ru_RU.utf8", "de_DE.UTF-8", "en", "uk_UA", "sr_RS@latin", "ast_ES.utf8"} {
		if !localeName(s) {
			t.Errorf("localeName(%q) = false", s)
		}
	}
	for _, s := range []string{"", "' OR 1=1 --", "fe80::1%eth0", "../../etc/passwd", "-1", "0", "99999999999999999999999",
		"%zz", "EN_gb", "en_GB.", "en_GB.utf8 ", "null", "en_GB.utf8\x00", "e", "english_GB"} {
		if localeName(s) {
			t.Errorf("localeName(%q) = true", s)
		}
	}
}
