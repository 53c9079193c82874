package source

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// tree is a media directory, a data directory with a token secret and a demo clip directory,
// and a file outside both.
type tree struct {
	media, data, demo, outside string
}

func newTree(t *testing.T) tree {
	t.Helper()
	root := t.TempDir()
	tr := tree{media: filepath.Join(root, "media"), data: filepath.Join(root, "data"),
		outside: filepath.Join(root, "elsewhere", "secret.txt")}
	tr.demo = filepath.Join(tr.data, "demo")
	for _, d := range []string{tr.media, tr.demo, filepath.Dir(tr.outside), filepath.Join(tr.data, "postgres")} {
		must(t, os.MkdirAll(d, 0o755))
	}
	write := func(p, s string) { must(t, os.WriteFile(p, []byte(s), 0o600)) }
	write(filepath.Join(tr.media, "movie.mp4"), "movie")
	write(filepath.Join(tr.data, "token-secret"), "the token secret")
	write(filepath.Join(tr.data, "postgres", "PG_VERSION"), "15")
	write(filepath.Join(tr.demo, "clip.ts"), "clip")
	write(tr.outside, "outside")
	return tr
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, f *Files, p string) (string, error) {
	t.Helper()
	file, err := f.Open(p)
	if err != nil {
		return "", err
	}
	defer file.Close()
	b, err := io.ReadAll(file)
	must(t, err)
	return string(b), nil
}

func TestFilesOpen(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	link := func(target, name string) string {
		p := filepath.Join(tr.media, name)
		must(t, os.Symlink(target, p))
		return p
	}
	toSecret := link(filepath.Join(tr.data, "token-secret"), "secret.mp4")
	toOutside := link(tr.outside, "outside.mp4")
	relOutside := link("../elsewhere/secret.txt", "rel.mp4")
	toData := link(tr.data, "datadir")
	toMovie := link("movie.mp4", "alias.mp4")
	demoToSecret := filepath.Join(tr.demo, "secret.ts")
	must(t, os.Symlink("../token-secret", demoToSecret))
	fifo := filepath.Join(tr.media, "fifo.ts")
	must(t, syscall.Mkfifo(fifo, 0o600))

	standard, err := NewFiles(FilesOptions{MediaDirs: []string{tr.media}, Builtin: []string{tr.demo}, Private: []string{tr.data}})
	must(t, err)
	// The operator configured a media directory that holds the data directory.
	overlap, err := NewFiles(FilesOptions{MediaDirs: []string{filepath.Dir(tr.data)}, Private: []string{tr.data}})
	must(t, err)
	none, err := NewFiles(FilesOptions{Private: []string{tr.data}})
	must(t, err)

	tests := []struct {
		name  string
		files *Files
		path  string
		want  string // content; "" means refused
		err   error
	}{
		{"a movie in the media dir", standard, filepath.Join(tr.media, "movie.mp4"), "movie", nil},
		{"a link inside the media dir", standard, toMovie, "movie", nil},
		{"the demo clip inside the data dir", standard, filepath.Join(tr.demo, "clip.ts"), "clip", nil},
		{"the token secret", standard, filepath.Join(tr.data, "token-secret"), "", ErrOutside},
		{"the cluster", standard, filepath.Join(tr.data, "postgres", "PG_VERSION"), "", ErrOutside},
		{"a file outside", standard, tr.outside, "", ErrOutside},
		{"dot-dot out of the media dir", standard, tr.media + "/../data/token-secret", "", ErrInvalid},
		{"relative path", standard, "media/movie.mp4", "", ErrInvalid},
		{"link to the token secret", standard, toSecret, "", ErrOutside},
		{"link to a file outside", standard, toOutside, "", ErrOutside},
		{"relative link out", standard, relOutside, "", ErrOutside},
		{"through a link to the data dir", standard, filepath.Join(toData, "token-secret"), "", ErrOutside},
		{"demo dir link to the token secret", standard, demoToSecret, "", ErrOutside},
		{"a FIFO", standard, fifo, "", ErrNotRegular},
		{"a directory", standard, tr.media, "", ErrNotRegular},
		{"missing", standard, filepath.Join(tr.media, "nope.mp4"), "", os.ErrNotExist},
		{"overlap: media file", overlap, filepath.Join(tr.media, "movie.mp4"), "movie", nil},
		{"overlap: token secret", overlap, filepath.Join(tr.data, "token-secret"), "", ErrOutside},
		{"overlap: demo clip, not builtin", overlap, filepath.Join(tr.demo, "clip.ts"), "", ErrOutside},
		{"no media dirs", none, filepath.Join(tr.media, "movie.mp4"), "", ErrOutside},
		{"nil Files", nil, filepath.Join(tr.media, "movie.mp4"), "", ErrOutside},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := read(t, tt.files, tt.path)
			if tt.err == nil {
				if err != nil || got != tt.want {
					t.Fatalf("Open(%s) = %q, %v, want %q", tt.path, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.err) {
				t.Fatalf("Open(%s) = %q, %v, want %v", tt.path, got, err, tt.err)
			}
		})
	}
}

// TestFilesOpen_MediaDirIsALink: a media directory that is a link is followed, and repointing
// it takes effect at the next open.
func TestFilesOpen_MediaDirIsALink(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	alias := filepath.Join(filepath.Dir(tr.media), "media-link")
	must(t, os.Symlink(tr.media, alias))
	f, err := NewFiles(FilesOptions{MediaDirs: []string{alias}, Private: []string{tr.data}})
	must(t, err)
	if got, err := read(t, f, filepath.Join(tr.media, "movie.mp4")); err != nil || got != "movie" {
		t.Fatalf("Open(real path under a linked media dir) = %q, %v", got, err)
	}
	must(t, os.Remove(alias))
	must(t, os.Symlink(tr.data, alias))
	if _, err := read(t, f, filepath.Join(alias, "token-secret")); !errors.Is(err, ErrOutside) {
		t.Fatalf("Open(token secret once the media link points at the data dir) = %v, want ErrOutside", err)
	}
	if _, err := read(t, f, filepath.Join(tr.media, "movie.mp4")); !errors.Is(err, ErrOutside) {
		t.Fatalf("Open(old media dir after repointing) = %v, want ErrOutside", err)
	}
}

func TestFilesStat(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	f, err := NewFiles(FilesOptions{MediaDirs: []string{tr.media}})
	must(t, err)
	fi, err := f.Stat(filepath.Join(tr.media, "movie.mp4"))
	if err != nil || fi.Size() != 5 {
		t.Fatalf("Stat(movie) = %v, %v, want 5 bytes", fi, err)
	}
	if _, err := f.Stat(tr.outside); !errors.Is(err, ErrOutside) {
		t.Fatalf("Stat(outside) = %v, want ErrOutside", err)
	}
	if got := f.MediaDirs(); len(got) != 1 || got[0] != tr.media {
		t.Fatalf("MediaDirs() = %v", got)
	}
}

func TestFilesAllows(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	link := filepath.Join(tr.media, "data")
	must(t, os.Symlink(tr.data, link))
	f, err := NewFiles(FilesOptions{MediaDirs: []string{tr.media}, Builtin: []string{tr.demo}, Private: []string{tr.data}})
	must(t, err)
	tests := []struct {
		path string
		err  error
	}{
		{filepath.Join(tr.media, "movie.mp4"), nil},
		{filepath.Join(tr.media, "not-yet", "movie.mp4"), nil},
		{filepath.Join(tr.media, "rec", "{stream_id}", "{Y}{m}{d}.ts"), nil},
		{filepath.Join(tr.media, "rec-{stream_id}.ts"), nil},
		{filepath.Join(tr.demo, "clip.ts"), nil},
		{filepath.Join(tr.data, "token-secret"), ErrOutside},
		{filepath.Join(tr.data, "{stream_id}"), ErrOutside},
		{filepath.Join(link, "token-secret"), ErrOutside},
		{filepath.Join(link, "later", "{Y}.ts"), ErrOutside},
		{tr.outside, ErrOutside},
		{"/{stream_id}.ts", ErrOutside},
		{tr.media + "/../data/token-secret", ErrInvalid},
	}
	for _, tt := range tests {
		if err := f.Allows(tt.path); !errors.Is(err, tt.err) && !(tt.err == nil && err == nil) {
			t.Errorf("Allows(%s) = %v, want %v", tt.path, err, tt.err)
		}
	}
	var none *Files
	if err := none.Allows(filepath.Join(tr.media, "movie.mp4")); !errors.Is(err, ErrOutside) {
		t.Errorf("nil Files: Allows = %v, want ErrOutside", err)
	}
}

// BenchmarkFilesOpen is a movie open through the media rule (links resolved for the file and
// every configured directory, /proc checked); BenchmarkFilesOpenBare is the same-run
// baseline, os.Open as before the rule.
func BenchmarkFilesOpen(b *testing.B) {
	tr := newTreeB(b)
	f, err := NewFiles(FilesOptions{MediaDirs: []string{tr.media}, Builtin: []string{tr.demo}, Private: []string{tr.data}})
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(tr.media, "movie.mp4")
	b.ReportAllocs()
	for b.Loop() {
		file, err := f.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		file.Close()
	}
}

func BenchmarkFilesOpenBare(b *testing.B) {
	tr := newTreeB(b)
	p := filepath.Join(tr.media, "movie.mp4")
	b.ReportAllocs()
	for b.Loop() {
		file, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		file.Close()
	}
}

func newTreeB(b *testing.B) tree {
	root := b.TempDir()
	tr := tree{media: filepath.Join(root, "media"), data: filepath.Join(root, "data")}
	tr.demo = filepath.Join(tr.data, "demo")
	if err := os.MkdirAll(tr.media, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tr.media, "movie.mp4"), []byte("movie"), 0o644); err != nil {
		b.Fatal(err)
	}
	return tr
}
