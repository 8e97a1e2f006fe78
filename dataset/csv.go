package dataset

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/hourglass-ml/hourglass/internal/safeio"
)

// CSVOptions controls LoadCSV.
type CSVOptions struct {
	// LabelColumn names the column holding integer class labels; it needs a
	// header row. Empty means no labels: every column is a feature.
	LabelColumn string
	// Comma is the field separator; 0 means ','.
	Comma rune
}

// LoadCSV reads a numeric CSV file as an N×1×1×features dataset named by the
// path. A first row with any non-numeric cell is taken as the header. Errors
// name the file, the line and the column (number and, with a header, name).
func LoadCSV(path string, opt CSVOptions) (*Dataset, error) {
	f, fi, err := safeio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading CSV %s: %w", path, err)
	}
	defer f.Close()
	// Read no more than the stated size, so a file that keeps growing
	// cannot keep the reader going.
	d, err := readCSV(io.LimitReader(f, fi.Size()), path, opt)
	if err != nil {
		return nil, fmt.Errorf("loading CSV %s: %w", path, err)
	}
	return d, nil
}

func readCSV(r io.Reader, name string, opt CSVOptions) (*Dataset, error) {
	cr := csv.NewReader(r)
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	}
	cr.FieldsPerRecord = -1 // ragged rows get our own error naming the line
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	first, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("empty file: want a header row and/or rows of numbers")
	}
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	first = trimAll(first)
	ncol := len(first)
	var header []string
	if isHeader(first) {
		header = first
	}

	labelCol := -1
	if opt.LabelColumn != "" {
		if header == nil {
			return nil, fmt.Errorf("label column %q requested but the file has no header row (its first row is all numbers); add a header or leave LabelColumn empty", opt.LabelColumn)
		}
		for j, h := range header {
			if h == opt.LabelColumn {
				labelCol = j
				break
			}
		}
		if labelCol < 0 {
			return nil, fmt.Errorf("label column %q not in header %q", opt.LabelColumn, header)
		}
	}
	nfeat := ncol
	if labelCol >= 0 {
		nfeat--
	}
	if nfeat < 1 {
		return nil, fmt.Errorf("no feature columns (header %q, label column %q)", header, opt.LabelColumn)
	}

	colName := func(j int) string {
		if header != nil {
			return fmt.Sprintf("column %d (%q)", j+1, header[j])
		}
		return fmt.Sprintf("column %d", j+1)
	}
	var x []float32
	var labels []int
	parseRow := func(rec []string, line int) error {
		if len(rec) != ncol {
			return fmt.Errorf("line %d: ragged row: %d fields, want %d like the first row", line, len(rec), ncol)
		}
		for j, c := range rec {
			c = strings.TrimSpace(c)
			v, err := strconv.ParseFloat(c, 64)
			if err != nil {
				return fmt.Errorf("line %d, %s: cannot parse %q as a number", line, colName(j), c)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("line %d, %s: value %q is not finite; remove or impute it", line, colName(j), c)
			}
			if j == labelCol {
				if v != math.Trunc(v) || v < 0 || v > math.MaxInt32 {
					return fmt.Errorf("line %d, %s: label %q is not a non-negative integer", line, colName(j), c)
				}
				labels = append(labels, int(v))
				continue
			}
			if math.Abs(v) > math.MaxFloat32 {
				return fmt.Errorf("line %d, %s: value %q overflows float32", line, colName(j), c)
			}
			x = append(x, float32(v))
		}
		return nil
	}
	if header == nil {
		if err := parseRow(first, 1); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if err := parseRow(rec, line); err != nil {
			return nil, err
		}
	}
	n := len(x) / nfeat
	if n == 0 {
		return nil, errors.New("header row but no data rows")
	}
	return &Dataset{Name: name, X: x, Labels: labels, N: n, C: 1, H: 1, W: nfeat}, nil
}

func trimAll(rec []string) []string {
	out := make([]string, len(rec))
	for i, c := range rec {
		out[i] = strings.TrimSpace(c)
	}
	return out
}

// readCSVHeader returns the header row, or nil if the first row is all
// numbers or the file is empty.
func readCSVHeader(r io.Reader) ([]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	first, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if first = trimAll(first); isHeader(first) {
		return first, nil
	}
	return nil, nil
}

// isHeader reports whether a first row is a header: any cell not a number.
func isHeader(rec []string) bool {
	for _, c := range rec {
		if _, err := strconv.ParseFloat(c, 64); err != nil {
			return true
		}
	}
	return false
}
