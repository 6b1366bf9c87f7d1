package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// writeNew writes a file that must not exist unless force; preview says
// how to see what would be written instead.
func writeNew(file string, dt []byte, force bool, preview string) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(file, flags, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: pass --force to replace it, or %s", file, preview)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(dt); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
