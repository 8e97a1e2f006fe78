package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/hourglass-ml/hourglass/internal/safeio"
)

// IDX type codes (third magic byte). Only unsigned bytes are supported; the
// others are named so the error can say what the file holds.
const idxUbyte = 0x08

var idxTypeNames = map[byte]string{
	0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16",
	0x0C: "int32", 0x0D: "float32", 0x0E: "float64",
}

const (
	maxIDXDims  = 8       // MNIST-style files use 1 to 3; more is almost surely garbage
	maxIDXBytes = 1 << 31 // sanity bound on the payload size
)

// ReadIDX reads one IDX file (plain or gzip, detected by the 1f 8b magic, not
// by name). It checks the magic (type 0x08 only), that every dimension is
// non-zero and their product below 1<<31, and that exactly that many data
// bytes follow: fewer is "truncated", more is "trailing data".
func ReadIDX(r io.Reader) (dims []int, data []byte, err error) {
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("idx: gzip header: %w", err)
		}
		defer zr.Close()
		dims, data, err = readIDX(zr)
		if err != nil {
			return nil, nil, fmt.Errorf("idx (gzip): %w", err)
		}
		return dims, data, nil
	}
	dims, data, err = readIDX(br)
	if err != nil {
		return nil, nil, fmt.Errorf("idx: %w", err)
	}
	return dims, data, nil
}

func readIDX(r io.Reader) ([]int, []byte, error) {
	var magic [4]byte
	if n, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, nil, fmt.Errorf("reading magic: got %d of 4 bytes: %w", n, err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, nil, fmt.Errorf("bad magic %02x %02x %02x %02x: not an IDX file (want 00 00 <type> <ndims>)", magic[0], magic[1], magic[2], magic[3])
	}
	if magic[2] != idxUbyte {
		if name, ok := idxTypeNames[magic[2]]; ok {
			return nil, nil, fmt.Errorf("unsupported data type 0x%02x (%s): only 0x08 (unsigned byte) is supported", magic[2], name)
		}
		return nil, nil, fmt.Errorf("unknown data type 0x%02x in magic: only 0x08 (unsigned byte) is supported", magic[2])
	}
	nd := int(magic[3])
	if nd < 1 || nd > maxIDXDims {
		return nil, nil, fmt.Errorf("bad number of dimensions %d: want 1..%d", nd, maxIDXDims)
	}
	raw := make([]byte, 4*nd)
	if n, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, fmt.Errorf("reading %d dimension sizes: got %d of %d bytes: %w", nd, n, len(raw), err)
	}
	dims := make([]int, nd)
	total := int64(1)
	for i := range dims {
		v := binary.BigEndian.Uint32(raw[4*i:])
		if v == 0 {
			return nil, nil, fmt.Errorf("dimension %d is zero", i)
		}
		dims[i] = int(v)
		total *= int64(v)
		if total >= maxIDXBytes {
			return nil, nil, fmt.Errorf("dimensions %v: data size exceeds the %d-byte sanity limit", dims[:i+1], int64(maxIDXBytes))
		}
	}
	// Read at most one byte past the declared size so the buffer grows with
	// the real input, not with a forged header, and trailing data shows up.
	data, err := io.ReadAll(io.LimitReader(r, total+1))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && int64(len(data)) < total {
			return nil, nil, fmt.Errorf("truncated: want %d bytes of data, got %d: %w", total, len(data), err)
		}
		return nil, nil, fmt.Errorf("reading data (%d of %d bytes read): %w", len(data), total, err)
	}
	if int64(len(data)) < total {
		return nil, nil, fmt.Errorf("truncated: want %d bytes of data, got %d", total, len(data))
	}
	if int64(len(data)) > total {
		return nil, nil, fmt.Errorf("trailing data after the %d bytes that dimensions %v declare", total, dims)
	}
	return dims, data, nil
}

// WriteIDX writes an unsigned-byte IDX file (not compressed; wrap w in a
// gzip.Writer for .gz). len(data) must equal the product of dims.
func WriteIDX(w io.Writer, dims []int, data []byte) error {
	if len(dims) < 1 || len(dims) > maxIDXDims {
		return fmt.Errorf("idx: write: %d dimensions, want 1..%d", len(dims), maxIDXDims)
	}
	total := int64(1)
	for i, v := range dims {
		if v <= 0 || int64(v) > 1<<32-1 {
			return fmt.Errorf("idx: write: dimension %d = %d out of range", i, v)
		}
		total *= int64(v)
		if total >= maxIDXBytes {
			return fmt.Errorf("idx: write: dimensions %v exceed the %d-byte sanity limit", dims, int64(maxIDXBytes))
		}
	}
	if int64(len(data)) != total {
		return fmt.Errorf("idx: write: dimensions %v need %d bytes, got %d", dims, total, len(data))
	}
	hdr := make([]byte, 4+4*len(dims))
	hdr[2], hdr[3] = idxUbyte, byte(len(dims))
	for i, v := range dims {
		binary.BigEndian.PutUint32(hdr[4+4*i:], uint32(v))
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("idx: write header: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("idx: write data: %w", err)
	}
	return nil
}

func readIDXFile(path string) ([]int, []byte, error) {
	f, _, err := safeio.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	dims, data, err := ReadIDX(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return dims, data, nil
}

// LoadIDXImages reads a 3-dimensional IDX file (count×rows×cols) as an
// unlabelled N×1×H×W dataset with pixels scaled to [0,1]. Name is the path.
func LoadIDXImages(path string) (*Dataset, error) {
	dims, data, err := readIDXFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading images: %w", err)
	}
	return imagesFromIDX(path, dims, data)
}

func imagesFromIDX(name string, dims []int, data []byte) (*Dataset, error) {
	if len(dims) != 3 {
		return nil, fmt.Errorf("loading images: %s: %d-dimensional IDX %v, want 3 (count, rows, cols); is this a labels file?", name, len(dims), dims)
	}
	x := make([]float32, len(data))
	for i, b := range data {
		x[i] = float32(b) / 255
	}
	return &Dataset{Name: name, X: x, N: dims[0], C: 1, H: dims[1], W: dims[2]}, nil
}

// LoadIDXLabels reads a 1-dimensional IDX file of byte labels.
func LoadIDXLabels(path string) ([]int, error) {
	dims, data, err := readIDXFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading labels: %w", err)
	}
	return labelsFromIDX(path, dims, data)
}

func labelsFromIDX(name string, dims []int, data []byte) ([]int, error) {
	if len(dims) != 1 {
		return nil, fmt.Errorf("loading labels: %s: %d-dimensional IDX %v, want 1; is this an images file?", name, len(dims), dims)
	}
	labels := make([]int, len(data))
	for i, b := range data {
		labels[i] = int(b)
	}
	return labels, nil
}

// checkLabels refuses a label outside [0, classes) of a set with that many
// classes (classes 0: the set's classes are not known, any byte is a label),
// naming the file and the label's index.
func checkLabels(path string, labels []int, classes int) error {
	if classes <= 0 {
		return nil
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return fmt.Errorf("%s: label %d at index %d is outside [0,%d) for a %d-class set; the file is corrupt or belongs to another data set", path, l, i, classes, classes)
		}
	}
	return nil
}
