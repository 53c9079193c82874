package access

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/conns"
)

// TestRegistry_ExpiresByItsOwnClock: the exp_date timer hands a line on only once the
// registry's clock has reached exp_date. The clock here is exact when the timer is armed and
// lags real time by 300 ms from then on, as a coarse clock can on a saturated machine; a line
// handed on earlier would be re-checked as still valid, and its streams would never end.
func TestRegistry_ExpiresByItsOwnClock(t *testing.T) {
	t.Parallel()
	var lag atomic.Int64
	now := func() time.Time { return time.Now().Add(-time.Duration(lag.Load())) }
	var clockAtExpiry atomic.Pointer[time.Time]
	expired := make(chan int64, 1)
	g := newRegistry(func(id int64) {
		at := now()
		clockAtExpiry.Store(&at)
		expired <- id
	}, now)
	exp := now().Add(200 * time.Millisecond)
	g.add(&Line{ID: 7, ExpDate: &exp}, &admission{lease: &conns.Lease{ID: [16]byte{1}, LineID: 7}})
	lag.Store(int64(300 * time.Millisecond))
	select {
	case id := <-expired:
		if id != 7 {
			t.Fatalf("expired line %d, want 7", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the line never expired")
	}
	if at := *clockAtExpiry.Load(); at.Before(exp) {
		t.Errorf("handed on at %v by the registry's clock, %v before exp_date", at, exp.Sub(at))
	}
}
