package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrOutside means a local source resolves to a file outside every media directory, or inside
// the data directory (or a secret file), which is never served.
var ErrOutside = errors.New("file outside the media directories")

// ErrNotRegular means a local source is a directory, a device, a FIFO or a socket.
var ErrNotRegular = errors.New("not a regular file")

// FilesOptions say which local files may be served.
type FilesOptions struct {
	// MediaDirs are the operator's media directories: a local source is served only when its
	// file, symbolic links resolved, lies inside one of them.
	MediaDirs []string
	// Builtin are xtreamd's own media directories (the demo clip's): served like media
	// directories, also when they lie inside a Private directory, as the demo clip lies inside
	// the data directory.
	Builtin []string
	// Private are the directories and files never served, even inside a media directory: the
	// data directory (the token secret, the private PostgreSQL cluster) and secret files.
	Private []string
}

// Files is the rule for local sources. Its directories are resolved again (symbolic links
// followed) at every Open, so a media directory that is itself a link may be repointed while
// xtreamd runs. A nil *Files serves no local file at all.
type Files struct {
	media, builtin, private []string // absolute and clean, as configured
}

// NewFiles returns the rule for o. Relative directories are taken from the working directory.
func NewFiles(o FilesOptions) (*Files, error) {
	f := &Files{}
	for _, set := range []struct {
		dst *[]string
		src []string
	}{{&f.media, o.MediaDirs}, {&f.builtin, o.Builtin}, {&f.private, o.Private}} {
		for _, d := range set.src {
			if d == "" {
				continue
			}
			abs, err := filepath.Abs(d)
			if err != nil {
				return nil, fmt.Errorf("source: directory %q: %w", d, err)
			}
			*set.dst = append(*set.dst, abs)
		}
	}
	return f, nil
}

// MediaDirs returns the media directories as configured (absolute), the builtin ones after the
// operator's.
func (f *Files) MediaDirs() []string {
	if f == nil {
		return nil
	}
	return append(append([]string(nil), f.media...), f.builtin...)
}

// Open opens the local file at p (a path from Local) for a viewer. p is resolved with its
// symbolic links; the real file must be a regular file inside a media directory and outside
// every private one (ErrOutside otherwise). The file is opened without following a link in its
// last element, and on Linux the path the kernel reports for the open descriptor is checked
// again, so a link swapped in between the check and the open is caught too.
func (f *Files) Open(p string) (*os.File, error) {
	if err := checkPath(p); err != nil {
		return nil, fmt.Errorf("open %s: %w", quoted(p, 120), err)
	}
	if f == nil || len(f.media)+len(f.builtin) == 0 {
		return nil, fmt.Errorf("open %s: %w (no media directory is configured)", quoted(p, 120), ErrOutside)
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	if !f.allowed(real) {
		return nil, fmt.Errorf("open %s: %w", quoted(p, 120), ErrOutside)
	}
	// O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
	file, err := os.OpenFile(real, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	fi, err := file.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("open %s: %w", quoted(p, 120), ErrNotRegular)
	}
	if err == nil {
		if actual, lerr := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(file.Fd()))); lerr == nil &&
			actual != real && !f.allowed(actual) {
			err = fmt.Errorf("open %s: %w", quoted(p, 120), ErrOutside)
		}
	}
	if err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// Allows reports whether the local path p could be served, as far as that can be told before
// the file is there: for a catch-up template the directory before its first {placeholder} is
// checked. The deepest existing directory on the way is resolved with its links; the rest is
// taken as written. It is for catalog writes, which refuse early what Open would refuse
// later (ErrOutside); Open still decides, for the real file.
func (f *Files) Allows(p string) error {
	if i := strings.IndexByte(p, '{'); i >= 0 {
		p = filepath.Dir(p[:i] + "x")
	}
	if err := checkPath(p); err != nil {
		return err
	}
	if f == nil || len(f.media)+len(f.builtin) == 0 {
		return fmt.Errorf("%w (no media directory is configured)", ErrOutside)
	}
	if !f.allowed(resolveExisting(p)) {
		return ErrOutside
	}
	return nil
}

// resolveExisting resolves the links of the deepest existing ancestor of p (p itself when it
// exists) and appends the rest.
func resolveExisting(p string) string {
	rest := ""
	for d := p; ; d = filepath.Dir(d) {
		if r, err := filepath.EvalSymlinks(d); err == nil {
			return filepath.Join(r, rest)
		}
		if d == "/" {
			return p
		}
		rest = filepath.Join(filepath.Base(d), rest)
	}
}

// Stat opens p as Open does and returns what the open file says about itself.
func (f *Files) Stat(p string) (fs.FileInfo, error) {
	file, err := f.Open(p)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return file.Stat()
}

// allowed reports whether real (a path without symbolic links) may be served.
func (f *Files) allowed(real string) bool {
	builtin := within(real, resolve(f.builtin))
	if builtin == "" && within(real, resolve(f.media)) == "" {
		return false
	}
	for _, priv := range resolve(f.private) {
		if !inside(real, priv) {
			continue
		}
		// xtreamd's own directory inside the data directory: allowed, but a private file inside
		// that directory still is not.
		if builtin != "" && builtin != priv && inside(builtin, priv) {
			continue
		}
		return false
	}
	return true
}

// resolve returns the directories with their symbolic links resolved; one that does not exist
// (yet) stays as configured.
func resolve(dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		if r, err := filepath.EvalSymlinks(d); err == nil {
			d = r
		}
		out[i] = d
	}
	return out
}

// within returns the deepest of roots that p lies inside ("" when none).
func within(p string, roots []string) string {
	best := ""
	for _, r := range roots {
		if inside(p, r) && len(r) > len(best) {
			best = r
		}
	}
	return best
}

// inside reports whether p is root or lies below it; both are clean and absolute.
func inside(p, root string) bool {
	return p == root || root == "/" || strings.HasPrefix(p, root+"/")
}
