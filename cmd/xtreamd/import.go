package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/store"
)

const importUsage = `usage: xtreamd import m3u FILE|URL --bouquet NAME [--kind live|radio|movie] [config flags]
       xtreamd import xmltv FILE|URL [--source-name NAME] [config flags]`

// importJob is one "import" command line, parsed.
type importJob struct {
	what                      string // "m3u" or "xmltv"
	input                     string // FILE or URL
	bouquet, kind, sourceName string
}

// cmdImport runs "import m3u" and "import xmltv": read a playlist or a guide from a file or an
// http(s)/file URL, merge it idempotently, show progress, and print a summary.
func cmdImport(ctx context.Context, e env, args []string) error {
	job, cfg, err := parseImport(e, args)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	body, size, err := epg.OpenURL(ctx, &http.Client{}, job.input)
	if err != nil {
		return fmt.Errorf("import %s: open: %w", job.what, err)
	}
	defer body.Close()

	log := newLogger(e, cfg)
	db, err := openMigrated(ctx, cfg, log, shareCluster)
	if err != nil {
		return err
	}
	defer db.Close(log)
	prog := newProgress(e.stdout, size, "reading "+job.what)
	r := io.TeeReader(body, prog)
	if job.what == "m3u" {
		// Entries with local sources outside the media dirs (or in the data dir) would never
		// play: refuse them now, with the reason in the summary.
		files, err := server.MediaFiles(cfg)
		if err != nil {
			return err
		}
		sum, err := catalog.ImportM3U(ctx, db.store, r, catalog.M3UOptions{Bouquet: job.bouquet, Kind: job.kind, Files: files})
		prog.finish()
		if err != nil {
			return err
		}
		printM3USummary(e.stdout, job.bouquet, sum)
		return nil
	}
	return importXMLTV(ctx, e, db.store, r, prog, job)
}

// parseImport reads the command line of "import m3u" or "import xmltv".
func parseImport(e env, args []string) (importJob, config.Config, error) {
	if len(args) == 0 || (args[0] != "m3u" && args[0] != "xmltv") {
		return importJob{}, config.Config{}, errors.New("import: want \"import m3u\" or \"import xmltv\"\n" + importUsage)
	}
	job := importJob{what: args[0]}
	bind := func(fs *flag.FlagSet) {
		if job.what == "m3u" {
			fs.StringVar(&job.bouquet, "bouquet", "", "bouquet the entries are appended to, created when missing (required)")
			fs.StringVar(&job.kind, "kind", store.KindLive, "what the entries are: live, radio or movie")
		} else {
			fs.StringVar(&job.sourceName, "source-name", "", "also register the URL as an EPG source under this name, refreshed by the server on schedule")
		}
	}
	flags, positional := splitArgs(args[1:], bind)
	cfg, _, err := loadConfig(e, "import "+job.what, flags, bind)
	if err != nil {
		return importJob{}, config.Config{}, err
	}
	if len(positional) != 1 {
		return importJob{}, config.Config{}, fmt.Errorf("import %s: want exactly one FILE or URL\n%s", job.what, importUsage)
	}
	if job.what == "m3u" && strings.TrimSpace(job.bouquet) == "" {
		return importJob{}, config.Config{}, fmt.Errorf("import m3u: --bouquet is required\n%s", importUsage)
	}
	job.input = positional[0]
	return job, cfg, nil
}

// importXMLTV merges a guide and, with --source-name, registers its URL and records the fetch.
func importXMLTV(ctx context.Context, e env, st *store.Store, r io.Reader, prog *progress, job importJob) error {
	var sourceID *int64
	if job.sourceName != "" {
		id, err := st.UpsertEPGSource(ctx, job.sourceName, sourceURL(job.input))
		if err != nil {
			return fmt.Errorf("import xmltv: register source: %w", err)
		}
		sourceID = &id
	}
	sum, err := epg.Import(ctx, st, r, sourceID)
	prog.finish()
	if sourceID != nil {
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if rerr := st.RecordEPGFetch(context.WithoutCancel(ctx), *sourceID, time.Now(), msg); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		return fmt.Errorf("import xmltv: %w", err)
	}
	printXMLTVSummary(e.stdout, sum)
	return nil
}

// splitArgs separates flags (with their values) from positional arguments, so that
// "import m3u list.m3u --bouquet X" works as well as "import m3u --bouquet X list.m3u"
// (the flag package stops at the first positional argument).
func splitArgs(args []string, bind func(*flag.FlagSet)) (flags, positional []string) {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	config.Bind(fs)
	bind(fs)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(positional, args[i+1:]...)
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue // the real parse reports it
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, positional
}

// sourceURL turns a command-line input into the URL stored in epg_sources.
func sourceURL(input string) string {
	if strings.Contains(input, "://") {
		return input
	}
	abs, err := filepath.Abs(input)
	if err != nil {
		abs = input
	}
	return "file://" + filepath.ToSlash(abs)
}

// progress shows how much of the input has been read: a progress bar on a terminal, else a
// plain line at every tenth of a known size (or every 16 MiB of an unknown one).
type progress struct {
	bar       *progressbar.ProgressBar
	w         io.Writer
	total     int64
	read      int64
	nextPrint int64
	label     string
}

func newProgress(w io.Writer, total int64, label string) *progress {
	p := &progress{w: w, total: total, label: label}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100_000_000), // 100 ms
			progressbar.OptionClearOnFinish(),
		)
		return p
	}
	p.nextPrint = p.step()
	return p
}

func (p *progress) step() int64 {
	if p.total > 0 {
		return max(p.total/10, 1)
	}
	return 16 << 20
}

func (p *progress) Write(b []byte) (int, error) {
	if p.bar != nil {
		return p.bar.Write(b)
	}
	p.read += int64(len(b))
	for p.read >= p.nextPrint {
		if p.total > 0 {
			fmt.Fprintf(p.w, "%s: %s of %s (%d%%)\n", p.label, mib(p.read), mib(p.total), p.read*100/p.total)
		} else {
			fmt.Fprintf(p.w, "%s: %s\n", p.label, mib(p.read))
		}
		p.nextPrint += p.step()
	}
	return len(b), nil
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

const maxListedSkips = 50

func printM3USummary(w io.Writer, bouquet string, s catalog.M3USummary) {
	fmt.Fprintf(w, "m3u import: %d entries: %d added, %d updated, %d unchanged, %d skipped\n",
		s.Entries, s.Added, s.Updated, s.Unchanged, len(s.Skipped))
	created := ""
	if s.BouquetCreated {
		created = " (created)"
	}
	fmt.Fprintf(w, "categories added: %d; bouquet %q%s: %d streams appended\n", s.CategoriesAdded, bouquet, created, s.BouquetAdded)
	if len(s.Skipped) > 0 {
		fmt.Fprintln(w, "skipped:")
		for i, k := range s.Skipped {
			if i == maxListedSkips {
				fmt.Fprintf(w, "  … and %d more\n", len(s.Skipped)-maxListedSkips)
				break
			}
			fmt.Fprintf(w, "  %s\n", k)
		}
	}
}

func printXMLTVSummary(w io.Writer, s epg.ImportSummary) {
	skipped := 0
	for _, n := range s.Skipped {
		skipped += n
	}
	fmt.Fprintf(w, "xmltv import: %d channels: %d added, %d updated, %d unchanged, %d implied by programmes\n",
		s.Channels, s.ChannelsAdded, s.ChannelsUpdated, s.ChannelsUnchanged, s.ChannelsImplied)
	fmt.Fprintf(w, "programmes: %d read: %d added, %d updated, %d unchanged, %d removed (rescheduled), %d duplicate, %d skipped\n",
		s.Programmes, s.Added, s.Updated, s.Unchanged, s.Removed, s.Duplicates, skipped)
	if skipped > 0 {
		reasons := make([]string, 0, len(s.Skipped))
		for r := range s.Skipped {
			reasons = append(reasons, r)
		}
		sort.Strings(reasons)
		fmt.Fprintln(w, "skipped:")
		for _, r := range reasons {
			fmt.Fprintf(w, "  %d× %s\n", s.Skipped[r], r)
		}
	}
}
