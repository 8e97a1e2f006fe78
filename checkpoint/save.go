package checkpoint

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/hourglass-ml/hourglass/internal/safeio"
)

// Save writes f to path atomically: it encodes into a temporary file in the
// same directory, fsyncs and closes it, renames it over path and fsyncs the
// directory. A crash or error at any point before the rename leaves the old
// file at path untouched; on error the temporary file is removed.
func Save(path string, f *File) error {
	return saveWith(path, f, nil)
}

// MaxFileSize bounds the checkpoint files Load reads: 16 GiB, far above
// what a model within models' parameter limit writes with its optimizer
// state, so it only stops a runaway file before it is read into memory.
const MaxFileSize = 16 << 30

// Load reads and validates the checkpoint at path. Only a regular file is
// read (a FIFO, /dev/zero or another device is refused without blocking),
// and never more than its stated size or MaxFileSize; every tensor's dtype,
// shape and byte range is checked against the file before any tensor is
// allocated, so memory stays within about twice the file's size.
func Load(path string) (*File, error) {
	data, err := safeio.ReadFile(path, MaxFileSize)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	f, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("load checkpoint %s: %w", path, err)
	}
	return f, nil
}

// hookWriter calls hook("write") after every successful write that reached
// the underlying file, so tests can fail a save after partial bytes landed.
type hookWriter struct {
	w    io.Writer
	hook func(stage string) error
}

func (h hookWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	if err == nil && h.hook != nil {
		err = h.hook("write")
	}
	return n, err
}

// saveWith is Save with a fault-injection hook. hook, when non-nil, is called
// with the stage about to run ("create", "write" after each chunk reaches the
// temp file, "sync", "close", "rename"); a non-nil return aborts the save
// there with that error.
func saveWith(path string, f *File, hook func(stage string) error) (err error) {
	step := func(stage string) error {
		if hook == nil {
			return nil
		}
		return hook(stage)
	}
	// Validate before touching the disk so bad input never creates files.
	if _, err := sortedTensors(f); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// A new file gets 0666 less the umask, as any file the user creates; a
	// replaced one keeps its mode.
	var keepMode os.FileMode
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("save checkpoint %s: path exists and is not a regular file; choose another path", path)
		}
		keepMode = fi.Mode().Perm()
	}
	if err := step("create"); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	tmp, err := createTemp(dir, "."+base+".tmp-")
	if err != nil {
		return fmt.Errorf("save checkpoint %s: create temp file (is the directory writable?): %w", path, err)
	}
	tmpName := tmp.Name()
	closed, renamed := false, false
	defer func() {
		if err != nil && !renamed {
			if !closed {
				_ = tmp.Close()
			}
			_ = os.Remove(tmpName)
		}
	}()
	if keepMode != 0 {
		if err = tmp.Chmod(keepMode); err != nil {
			return fmt.Errorf("save checkpoint %s: chmod temp file: %w", path, err)
		}
	}
	if err = Encode(hookWriter{w: tmp, hook: hook}, f); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err = step("sync"); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("save checkpoint %s: fsync temp file: %w", path, err)
	}
	if err = step("close"); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	closed = true
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("save checkpoint %s: close temp file: %w", path, err)
	}
	if err = step("rename"); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err = os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("save checkpoint %s: rename temp file into place: %w", path, err)
	}
	renamed = true
	// The new file is in place; a failed directory fsync only weakens
	// durability across power loss, so report it without removing anything.
	if derr := syncDir(dir); derr != nil {
		return fmt.Errorf("save checkpoint %s: written, but fsync of directory %s failed: %w", path, dir, derr)
	}
	return nil
}

// syncDir fsyncs a directory so a rename inside it survives power loss.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	// Some filesystems refuse fsync on directories; that is not a failure of
	// the save itself.
	if serr != nil && !errors.Is(serr, syscall.EINVAL) && !errors.Is(serr, errors.ErrUnsupported) {
		return serr
	}
	return cerr
}

// createTemp creates a new file prefix+random in dir with mode 0666 less
// the umask (os.CreateTemp would make it 0600), never following or
// reusing an existing name.
func createTemp(dir, prefix string) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("no free temporary name in %s", dir)
}
