//go:build !linux

package logx

import (
	"errors"
	"os"
)

const canDropCache = false

func dropCache(*os.File) error { return errors.ErrUnsupported }
