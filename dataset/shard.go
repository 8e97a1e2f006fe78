package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// maxSampleValues bounds one sample (2048×2048 values) so a hostile header
// cannot make a reader allocate gigabytes for its row buffer.
const maxSampleValues = 1 << 22

// Shard formats ShardReader reads.
const (
	FormatCSV = "csv"
	FormatNPY = "npy"
	FormatIDX = "idx"
)

// ShardFormat guesses a shard's format from its name: .csv, .npy, or an
// IDX name (…-idx3-ubyte, .idx, optionally .gz). It returns "" when the
// name says nothing.
func ShardFormat(name string) string {
	n := strings.ToLower(strings.TrimSuffix(filepath.Base(name), ".gz"))
	switch {
	case strings.HasSuffix(n, ".csv"):
		return FormatCSV
	case strings.HasSuffix(n, ".npy"):
		return FormatNPY
	case strings.HasSuffix(n, ".idx") || strings.Contains(n, "idx3-ubyte"):
		return FormatIDX
	}
	return ""
}

// ShardReader reads one shard — a CSV, .npy or IDX file — one sample at a
// time, so a shard of any size is read in constant memory. Errors name the
// shard and the row (CSV: the 1-based line; .npy and IDX: the 0-based
// sample index).
type ShardReader struct {
	name    string
	format  string
	c, h, w int
	next    func(dst []float32) (pos int, err error)
	rows    int // samples the header announces; -1 for CSV
	close   func() error
}

// OpenShard starts reading r as a shard named name (used in errors) in
// format (FormatCSV, FormatNPY, FormatIDX, or "" to guess from the name).
// CSV shards follow LoadCSV's rules: a first row with a non-numeric cell is
// a header, and a header column named "label" is not a feature (as Load
// treats it). Gzipped input is detected from its content.
func OpenShard(r io.Reader, name, format string) (*ShardReader, error) {
	if format == "" {
		format = ShardFormat(name)
	}
	br := bufio.NewReaderSize(r, 1<<16)
	s := &ShardReader{name: name, format: format, rows: -1, close: func() error { return nil }}
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("shard %s: gzip header: %w", name, err)
		}
		s.close = zr.Close
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	var err error
	switch format {
	case FormatCSV:
		err = s.openCSV(br)
	case FormatNPY:
		err = s.openNPY(br)
	case FormatIDX:
		err = s.openIDX(br)
	default:
		return nil, fmt.Errorf("shard %s: unknown format %q: name shards .csv, .npy or *-idx3-ubyte[.gz], or say the format", name, format)
	}
	if err != nil {
		return nil, fmt.Errorf("shard %s: %w", name, err)
	}
	return s, nil
}

// Name is the shard's name as given to OpenShard.
func (s *ShardReader) Name() string { return s.name }

// Shape is one sample's shape (C, H, W); tables are 1×1×features.
func (s *ShardReader) Shape() (c, h, w int) { return s.c, s.h, s.w }

// Dim is the number of values in one sample.
func (s *ShardReader) Dim() int { return s.c * s.h * s.w }

// Rows is the number of samples the header announces (.npy, IDX), or -1
// for CSV, where only reading tells.
func (s *ShardReader) Rows() int { return s.rows }

// Next reads the next sample into dst[:Dim()] and returns its position
// (CSV: line number; .npy/IDX: sample index). It returns io.EOF after the
// last sample, and an error naming the shard and row for a truncated
// shard, a row of the wrong width or a value that is not a finite number.
func (s *ShardReader) Next(dst []float32) (pos int, err error) {
	if len(dst) < s.Dim() {
		return 0, fmt.Errorf("shard %s: row buffer has %d values, want %d", s.name, len(dst), s.Dim())
	}
	return s.next(dst[:s.Dim()])
}

// Close releases the gzip reader, if any; it does not close the reader
// given to OpenShard.
func (s *ShardReader) Close() error { return s.close() }

func (s *ShardReader) openCSV(br *bufio.Reader) error {
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // ragged rows get our own error naming the line
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	first, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return errors.New("empty CSV shard: want a header row and/or rows of numbers")
	}
	if err != nil {
		return fmt.Errorf("parse: %w", err)
	}
	first = trimAll(first)
	ncol := len(first)
	var header []string
	labelCol := -1
	if isHeader(first) {
		header = first
		for j, h := range header {
			if h == "label" {
				labelCol = j
			}
		}
	}
	nfeat := ncol
	if labelCol >= 0 {
		nfeat--
	}
	if nfeat < 1 {
		return fmt.Errorf("no feature columns (header %q)", header)
	}
	s.c, s.h, s.w = 1, 1, nfeat
	var pending []string // the first row when it holds numbers
	if header == nil {
		pending = first
	}
	s.next = func(dst []float32) (int, error) {
		rec, line := pending, 1
		if rec == nil {
			var err error
			if rec, err = cr.Read(); err != nil {
				if errors.Is(err, io.EOF) {
					return 0, io.EOF
				}
				return 0, fmt.Errorf("shard %s: parse: %w", s.name, err)
			}
			line, _ = cr.FieldPos(0)
		}
		pending = nil
		if len(rec) != ncol {
			return line, fmt.Errorf("shard %s: line %d: %d fields, want %d like the first row: fix or drop the row", s.name, line, len(rec), ncol)
		}
		k := 0
		for j, c := range rec {
			if j == labelCol {
				continue
			}
			c = strings.TrimSpace(c)
			v, err := strconv.ParseFloat(c, 64)
			if err != nil {
				return line, fmt.Errorf("shard %s: line %d, column %d: cannot parse %q as a number", s.name, line, j+1, c)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
				return line, fmt.Errorf("shard %s: line %d, column %d: value %q is not a finite float32; remove or impute it", s.name, line, j+1, c)
			}
			dst[k] = float32(v)
			k++
		}
		return line, nil
	}
	return nil
}

var npyShape = regexp.MustCompile(`'shape':\s*\(([0-9,\s]*)\)`)
var npyDescr = regexp.MustCompile(`'descr':\s*'([^']*)'`)

// openNPY reads a .npy header: little-endian float32/float64 or uint8
// (scaled to [0,1] like IDX), C order.
func (s *ShardReader) openNPY(br *bufio.Reader) error {
	var pre [8]byte
	if _, err := io.ReadFull(br, pre[:]); err != nil || string(pre[:6]) != "\x93NUMPY" {
		return errors.New("not a .npy file (bad magic); write shards with numpy.save")
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return fmt.Errorf("truncated .npy header: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return fmt.Errorf("truncated .npy header: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return fmt.Errorf(".npy format version %d is not supported (1, 2 or 3)", pre[6])
	}
	if hlen > 1<<20 {
		return fmt.Errorf(".npy header of %d bytes is implausibly large", hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return fmt.Errorf("truncated .npy header: %w", err)
	}
	h := string(hdr)
	if strings.Contains(h, "'fortran_order': True") {
		return errors.New(".npy array is in Fortran order; save it with numpy.ascontiguousarray")
	}
	dm, sm := npyDescr.FindStringSubmatch(h), npyShape.FindStringSubmatch(h)
	if dm == nil || sm == nil {
		return fmt.Errorf(".npy header %q has no descr or shape", strings.TrimSpace(h))
	}
	var shape []int
	for _, f := range strings.Split(sm[1], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > math.MaxInt32 {
			return fmt.Errorf(".npy shape (%s) is not a tuple of sizes", sm[1])
		}
		shape = append(shape, n)
	}
	per := 1
	for _, d := range shape[min(1, len(shape)):] {
		if d > maxSampleValues || per*d > maxSampleValues {
			return fmt.Errorf(".npy shape %v: a sample must hold between 1 and %d values", shape, maxSampleValues)
		}
		per *= d
	}
	switch len(shape) {
	case 1:
		s.c, s.h, s.w = 1, 1, 1
	case 2:
		s.c, s.h, s.w = 1, 1, shape[1]
	case 3:
		s.c, s.h, s.w = 1, shape[1], shape[2]
	case 4:
		s.c, s.h, s.w = shape[1], shape[2], shape[3]
	default:
		return fmt.Errorf(".npy shape %v: want (n,), (n, features), (n, h, w) or (n, c, h, w)", shape)
	}
	if s.Dim() < 1 || s.Dim() > maxSampleValues {
		return fmt.Errorf(".npy shape %v: a sample must hold between 1 and %d values", shape, maxSampleValues)
	}
	s.rows = shape[0]
	var size int
	var conv func(b []byte, dst []float32)
	switch dm[1] {
	case "<f4":
		size = 4
		conv = func(b []byte, dst []float32) {
			for i := range dst {
				dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			}
		}
	case "<f8":
		size = 8
		conv = func(b []byte, dst []float32) {
			for i := range dst {
				dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
			}
		}
	case "|u1", "<u1":
		size = 1
		conv = func(b []byte, dst []float32) {
			for i := range dst {
				dst[i] = float32(b[i]) / 255
			}
		}
	default:
		return fmt.Errorf(".npy dtype %q is not supported: save float32 (<f4), float64 (<f8) or uint8", dm[1])
	}
	s.next = s.fixedRows(br, size, conv)
	return nil
}

// openIDX reads an IDX header of unsigned bytes (count, rows, cols),
// scaling values to [0,1] like LoadIDXImages.
func (s *ShardReader) openIDX(br *bufio.Reader) error {
	var m [4]byte
	if _, err := io.ReadFull(br, m[:]); err != nil {
		return fmt.Errorf("truncated IDX header: %w", err)
	}
	if m[0] != 0 || m[1] != 0 || m[2] != 0x08 {
		return fmt.Errorf("not an IDX file of unsigned bytes (magic % x)", m)
	}
	if m[3] != 3 {
		return fmt.Errorf("%d-dimensional IDX, want 3 (count, rows, cols); is this a labels file?", m[3])
	}
	dims := make([]int, 3)
	for i := range dims {
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return fmt.Errorf("truncated IDX header: %w", err)
		}
		dims[i] = int(binary.BigEndian.Uint32(b[:]))
	}
	if dims[1] < 1 || dims[2] < 1 || dims[1] > maxSampleValues || dims[1]*dims[2] > maxSampleValues {
		return fmt.Errorf("IDX dims %v: images must hold between 1 and %d values", dims, maxSampleValues)
	}
	s.c, s.h, s.w, s.rows = 1, dims[1], dims[2], dims[0]
	s.next = s.fixedRows(br, 1, func(b []byte, dst []float32) {
		for i := range dst {
			dst[i] = float32(b[i]) / 255
		}
	})
	return nil
}

// fixedRows reads s.rows samples of Dim() values of size bytes each.
func (s *ShardReader) fixedRows(br *bufio.Reader, size int, conv func([]byte, []float32)) func([]float32) (int, error) {
	buf := make([]byte, size*s.Dim())
	row := 0
	return func(dst []float32) (int, error) {
		if row >= s.rows {
			if _, err := br.ReadByte(); err == nil {
				return row, fmt.Errorf("shard %s: row %d: data continues past the %d rows the header announces; the file is corrupt", s.name, row, s.rows)
			}
			return 0, io.EOF
		}
		if n, err := io.ReadFull(br, buf); err != nil {
			return row, fmt.Errorf("shard %s: row %d: truncated: %d of %d bytes (the header announces %d rows); re-copy or re-write the shard", s.name, row, n, len(buf), s.rows)
		}
		conv(buf, dst)
		for j, v := range dst {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return row, fmt.Errorf("shard %s: row %d, value %d: %v is not finite; remove or impute it", s.name, row, j, v)
			}
		}
		row++
		return row - 1, nil
	}
}
