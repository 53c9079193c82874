package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/xtreamd/xtreamd/app/stream"
)

// The channels watched across a restart. An instance that shuts down writes the ids of the live
// channels being watched (relay.Manager.Watched: now, or within the relay's grace period) to
// its data directory; the next instance started there pulls them again at once
// (relay.Manager.Warm), before it listens, so that the players reconnecting after a deploy
// start from the GOP cache instead of each channel's first viewer waiting for an upstream
// connect and the next keyframe (up to a GOP: 2 s and more). The list is read once and
// removed. One older than warmMaxAge is ignored: that instance was down for longer than a
// restart takes, and its viewers have gone. A warmed channel nobody asks for stops after
// warmHold. Only ids are written: no line, address or source URL.
const (
	warmFileName = "relay-warm.json"
	warmMaxAge   = 2 * time.Minute
	warmHold     = 30 * time.Second
	warmMaxBytes = 1 << 20
)

// warmList is the file's content.
type warmList struct {
	SavedAt time.Time `json:"saved_at"`
	Streams []int64   `json:"streams"`
}

// warmPath is where the list lives; "" when there is no data directory or the relay pulls
// nothing (redirect mode).
func (s *Server) warmPath() string {
	if s.deps.Config.DataDir == "" || s.redirect.Enabled() {
		return ""
	}
	return filepath.Join(s.deps.Config.DataDir, warmFileName)
}

// saveWarm writes the channels being watched for the next instance (at shutdown, before the
// streams end). With none it removes an older list, which must not warm anything.
func (s *Server) saveWarm() {
	path := s.warmPath()
	if path == "" {
		return
	}
	ids := s.dom.relay.Watched()
	if len(ids) == 0 {
		s.removeWarm(path)
		return
	}
	b, err := json.Marshal(warmList{SavedAt: time.Now().UTC(), Streams: ids})
	if err == nil {
		err = writeFileAtomic(path, b)
	}
	if err != nil {
		s.deps.Log.Warn("saving the channels watched at shutdown", "err", err)
		return
	}
	s.deps.Log.Info("saved the channels watched at shutdown", "channels", len(ids))
}

// warmFromPrevious has the relay pull the channels the previous instance saved (saveWarm), if
// it stopped less than warmMaxAge ago, and removes the list.
func (s *Server) warmFromPrevious() {
	path := s.warmPath()
	if path == "" {
		return
	}
	list, err := readWarmList(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	s.removeWarm(path)
	if err != nil {
		s.deps.Log.Warn("ignoring the list of channels watched before the restart", "err", err)
		return
	}
	if age := time.Since(list.SavedAt); age > warmMaxAge || age < -time.Minute {
		s.deps.Log.Info("not warming the channels watched before the restart: the list is stale",
			"saved", list.SavedAt.Format(time.RFC3339), "max_age", warmMaxAge)
		return
	}
	streams := stream.Relayed(s.dom.catalog.Current(), list.Streams)
	s.dom.relay.Warm(streams, warmHold)
	s.deps.Log.Info("warming the channels watched before the restart", "channels", len(streams), "hold", warmHold)
}

// removeWarm removes the list (used once, or stale); one already gone is no error.
func (s *Server) removeWarm(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.deps.Log.Warn("removing the list of watched channels", "err", err)
	}
}

// readWarmList reads and checks a saved list (at most warmMaxBytes).
func readWarmList(path string) (warmList, error) {
	f, err := os.Open(path)
	if err != nil {
		return warmList{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, warmMaxBytes+1))
	if err != nil {
		return warmList{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > warmMaxBytes {
		return warmList{}, fmt.Errorf("%s: over %d bytes", path, warmMaxBytes)
	}
	var list warmList
	if err := json.Unmarshal(b, &list); err != nil {
		return warmList{}, fmt.Errorf("%s: %w", path, err)
	}
	return list, nil
}

// writeFileAtomic writes b to path through a temporary file in the same directory, so a reader
// never sees half a list.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
