package catalog

import (
	"fmt"
	"strconv"

	"github.com/xtreamd/xtreamd/internal/source"
	"github.com/xtreamd/xtreamd/internal/store"
)

// CheckStream checks the parts of a stream write that come from outside and name something to
// fetch or open: every source URL and the catch-up template must pass source.Check, and when
// files is set, a local one must lie where files.Allows serves from (files nil: the shape
// only; serving checks the place again in any case). Every catalog write calls it before the
// store: the M3U importer, and the admin API's stream, movie and episode forms (the demo
// loader checks its one clip URL itself). The error reads "URL refused: …", "source 2
// refused: …" or "catchup-source refused: …" and never repeats the URL, which may carry
// credentials.
func CheckStream(in store.StreamInput, files *source.Files) error {
	for i, s := range in.Sources {
		if err := checkSource(s.URL, files); err != nil {
			if len(in.Sources) == 1 {
				return fmt.Errorf("URL %w", err)
			}
			return fmt.Errorf("source %s %w", strconv.Itoa(i+1), err)
		}
	}
	if in.CatchupSource != nil && *in.CatchupSource != "" {
		if err := checkSource(*in.CatchupSource, files); err != nil {
			return fmt.Errorf("catchup-source %w", err)
		}
	}
	return nil
}

func checkSource(raw string, files *source.Files) error {
	if err := source.Check(raw); err != nil {
		return err
	}
	p, local := source.Local(raw)
	if !local || files == nil {
		return nil
	}
	if err := files.Allows(p); err != nil {
		return fmt.Errorf("%w: %w", source.ErrInvalid, err)
	}
	return nil
}
