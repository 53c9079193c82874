package logx

import (
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/xtreamd/xtreamd/internal/testkit"
)

// logFile is a new file for a Writer to append to, on a file system whose pages the kernel
// can drop (not tmpfs or ramfs, which have no backing store to drop them to).
func logFile(tb testing.TB) *os.File {
	tb.Helper()
	f, err := os.CreateTemp(tb.TempDir(), "access-*.log")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = f.Close() })
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		tb.Fatal(err)
	}
	if st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC {
		tb.Skipf("%s is on tmpfs or ramfs: its pages have nowhere to go", f.Name())
	}
	return f
}

// writeLines writes n bytes of 250-byte lines through w, waiting for the sink every 256 KiB
// so that none is dropped (the Writer holds 1 MiB at most).
func writeLines(w *Writer, n int) {
	line := []byte(strings.Repeat("x", 249) + "\n")
	for written := 0; written < n; written += len(line) {
		_, _ = w.Write(line)
		if written%(256<<10) < len(line) {
			w.Flush()
		}
	}
}

// residentShare is the share of f's first n bytes in the page cache (mincore).
func residentShare(t *testing.T, f *os.File, n int) float64 {
	t.Helper()
	m, err := unix.Mmap(int(f.Fd()), 0, n, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unix.Munmap(m) }()
	page := os.Getpagesize()
	vec := make([]byte, (n+page-1)/page)
	// x/sys has no wrapper for mincore(2) on Linux.
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(n), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	in := 0
	for _, v := range vec {
		in += int(v & 1)
	}
	return float64(in) / float64(len(vec))
}

// TestWriter_DropsWrittenBackPages: a Writer appending to a regular file leaves what was
// written back out of the page cache; the same writes with the dropper off stay cached (which
// shows the measurement can see them). Nothing written is lost either way.
func TestWriter_DropsWrittenBackPages(t *testing.T) {
	t.Parallel()
	for _, drop := range []bool{true, false} {
		f := logFile(t)
		w := NewWriter(f, DefaultMaxPending)
		if w.drop == nil {
			t.Fatal("no cache dropper for a regular file")
		}
		if !drop {
			w.drop = nil // before the first Write, which the loop's reads come after
		}
		writeLines(w, dropCacheEvery)
		w.Flush()
		if err := f.Sync(); err != nil { // written back: clean, so droppable
			t.Fatal(err)
		}
		writeLines(w, dropCacheEvery) // crosses the next drop
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		share := residentShare(t, f, dropCacheEvery)
		t.Logf("drop %v: %.0f %% of the first %d MiB cached", drop, 100*share, dropCacheEvery>>20)
		switch {
		case drop && share > 0.1:
			t.Errorf("with the dropper, %.0f %% of the first %d MiB are still cached, want ≤ 10 %%", 100*share, dropCacheEvery>>20)
		case !drop && share < 0.9:
			t.Skipf("without the dropper only %.0f %% of the first %d MiB stayed cached: this kernel evicts by itself, the test cannot tell", 100*share, dropCacheEvery>>20)
		}
		st, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		linesPerCall := (dropCacheEvery + 250 - 1) / 250 // writeLines writes whole lines up to n
		if want := int64(2 * linesPerCall * 250); st.Size() != want || w.Dropped() != 0 {
			t.Errorf("drop %v: the file has %d bytes and %d lines were dropped, want %d and 0", drop, st.Size(), w.Dropped(), want)
		}
	}
}

// TestCacheDropper_OnlyRegularFiles: pipes get no dropper, and neither does anything that is
// not an *os.File.
func TestCacheDropper_OnlyRegularFiles(t *testing.T) {
	t.Parallel()
	r, wp, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer wp.Close()
	if d := newCacheDropper(wp); d != nil {
		t.Error("a cache dropper for a pipe")
	}
	if d := newCacheDropper(&strings.Builder{}); d != nil {
		t.Error("a cache dropper for a strings.Builder")
	}
}

// BenchmarkWriterToFile is the access log's path to a log file: 250-byte lines through a
// Writer to a growing regular file, with the written-back pages dropped (as xtreamd serve
// writes) and kept. cpu-ns/line is the whole process (the writing goroutine's syscalls too).
// The two differ only when the file grows into memory the guest has not used lately, as a
// long-running log does; a benchmark whose files are deleted leaves warm pages for the next
// one, so here they mostly measure the same (63–79 ns a line either way, 4 GB each).
func BenchmarkWriterToFile(b *testing.B) {
	for _, mode := range []string{"drop", "keep"} {
		b.Run(mode, func(b *testing.B) {
			f := logFile(b)
			w := NewWriter(f, DefaultMaxPending)
			if mode == "keep" {
				w.drop = nil
			}
			line := []byte(strings.Repeat("x", 249) + "\n")
			cpu0 := testkit.ProcessCPU()
			for b.Loop() {
				_, _ = w.Write(line)
			}
			w.Flush()
			b.ReportMetric(float64(testkit.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/line")
			_ = w.Close()
		})
	}
}
