package access_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/panel"
)

// TestPanelSettingsTable_DefaultsAreTheCheck's: the admin API's settings table
// (panel.Settings) answers a setting without a row with its default; the check must use the
// same one, or an admin would read a value the panel does not apply. Every default of the
// table, stored as a row, leaves the check's settings as DefaultSettings has them.
func TestPanelSettingsTable_DefaultsAreTheChecks(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for _, s := range panel.Settings {
		if err := f.st.SetSetting(ctx, s.Key, s.Default); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.checker.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(access.DefaultSettings(), f.checker.Settings()); diff != "" {
		t.Fatalf("the check's settings with the table's defaults stored differ from DefaultSettings (-want +got):\n%s", diff)
	}
}
