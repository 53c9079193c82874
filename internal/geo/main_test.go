package geo

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if a test leaves a goroutine behind (STYLE C18).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
