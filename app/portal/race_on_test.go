//go:build race

package portal_test

// raceDetector: the sweeps send fewer calls under the race detector, which makes each call
// several times slower (pairSent).
const raceDetector = true
