//go:build !race

package portal_test

// raceDetector: the sweeps send half their calls under the race detector, which makes each
// call several times slower.
const raceDetector = false
