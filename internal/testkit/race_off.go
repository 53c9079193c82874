//go:build !race

package testkit

// RaceDetector reports a build with the race detector, which makes every call several times
// slower and allocates where a plain build does not: sweeps send fewer calls and allocation
// counts are not checked under it.
const RaceDetector = false
