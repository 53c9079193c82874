//go:build unix

package testkit

import (
	"syscall"
	"time"
)

// ProcessCPU is this process's user and system CPU time so far. Benchmarks report CPU per
// operation from it: on a shared machine it is steadier than wall time, and it counts the
// goroutines an operation leaves work to (a log writer, a relay's readers) as well.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
