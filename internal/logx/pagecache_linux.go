package logx

import (
	"os"

	"golang.org/x/sys/unix"
)

const canDropCache = true

// dropCache starts writeback of f's dirty pages and drops its clean ones
// (POSIX_FADV_DONTNEED over the whole file does both). Through the raw connection, so the
// file keeps its mode (Fd would make it blocking).
func dropCache(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var adviseErr error
	if err := rc.Control(func(fd uintptr) {
		adviseErr = unix.Fadvise(int(fd), 0, 0, unix.FADV_DONTNEED)
	}); err != nil {
		return err
	}
	return adviseErr
}
