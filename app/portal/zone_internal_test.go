package portal

import (
	"strings"
	"testing"
	"time"
)

// TestZoneCache_OnlyCleanNames: the timezone cookie's zone is kept only under its clean name.
// The zone database opens "Europe//Paris", "./Europe/Paris" and "Europe/./Paris" as Paris, so
// before, each spelling was loaded and kept apart (and keyed get_epg_info's kept documents
// apart): a client could grow the cache without bound, one cookie at a time. A name that is not
// clean is the panel's zone, as an unknown one is.
func TestZoneCache_OnlyCleanNames(t *testing.T) {
	t.Parallel()
	z := newZoneCache(time.UTC)
	if got := z.of("Europe/Paris"); got.String() != "Europe/Paris" {
		t.Fatalf("of(Europe/Paris) = %v", got)
	}
	for _, name := range []string{"Etc/GMT+3", "America/Argentina/Buenos_Aires", "UTC", "America/Port-au-Prince"} {
		if got := z.of(name); got.String() != name {
			t.Errorf("of(%q) = %v", name, got)
		}
	}
	for i := 1; i < 30; i++ {
		for _, name := range []string{"Europe/" + strings.Repeat("/", i) + "Paris", strings.Repeat("./", i) + "Europe/Paris",
			"Europe/" + strings.Repeat("./", i) + "Paris", "Europe/Paris" + strings.Repeat("/", i)} {
			if got := z.of(name); got != time.UTC {
				t.Fatalf("of(%q) = %v, want the panel's zone", name, got)
			}
		}
	}
	n := 0
	z.zones.Range(func(_, _ any) bool { n++; return true })
	if n != 5 {
		t.Fatalf("%d zones kept, want the 5 clean names", n)
	}
}
