package safeio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped by the errors Open and ReadFile return for a
// path that is a FIFO, a device, a socket or a directory.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooBig is wrapped by the errors ReadFile returns for a file over the
// caller's limit.
var ErrTooBig = errors.New("file too big")

// kindOf names a file mode's type for error messages.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

// checkRegular refuses anything but a regular file.
func checkRegular(fi fs.FileInfo) error {
	if fi.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%w: it is %s; pass a regular file", ErrNotRegular, kindOf(fi.Mode()))
}

// Open opens path for reading only if it is a regular file. It stats the
// path first, so special files are refused without being opened, and opens
// without blocking (a FIFO swapped in after the stat cannot hang the
// caller), then checks the opened file again. Errors do not name path; the
// caller adds it with its own context.
func Open(path string) (*os.File, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := checkRegular(fi); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|oNonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err = f.Stat()
	if err == nil {
		err = checkRegular(fi)
	}
	if err != nil {
		_ = f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// ReadFile reads the regular file at path whole. It refuses a file whose
// stated size is over limit bytes before allocating, reads exactly the
// stated size and reports a file that shrank or grew while being read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, fi, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := fi.Size()
	if size > limit {
		return nil, fmt.Errorf("%w: %d bytes, over the %d-byte limit for this kind of file", ErrTooBig, size, limit)
	}
	return readSized(f, size)
}

// readSized reads exactly size bytes from r and checks that nothing follows.
func readSized(r io.Reader, size int64) ([]byte, error) {
	data := make([]byte, size)
	if n, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("file shrank while being read: %d of %d bytes", n, size)
		}
		return nil, err
	}
	var one [1]byte
	switch n, err := r.Read(one[:]); {
	case n > 0:
		return nil, fmt.Errorf("file grew while being read (more than its stated %d bytes)", size)
	case err != nil && !errors.Is(err, io.EOF):
		return nil, err
	}
	return data, nil
}
