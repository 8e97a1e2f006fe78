package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/hourglass-ml/hourglass/internal/safeio"
)

// CSVOptions controls LoadCSV.
type CSVOptions struct {
	// LabelColumn names the column holding integer class labels; it needs a
	// header row. Empty means no labels, unless DefaultLabel applies.
	LabelColumn string
	// DefaultLabel, when LabelColumn is empty, names a column taken as the
	// labels if the header has it (Load passes "label").
	DefaultLabel string
	// Comma is the field separator; 0 detects ',', ';' or tab from the
	// first line (the one that splits it into the most fields). With ';'
	// a decimal comma (1,5) is read as a decimal point.
	Comma rune
	// Missing reads an empty or NA-like cell of a feature column as NaN,
	// for an Imputer to fill; otherwise it is an error naming the cell.
	Missing bool
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

// missingCells are cell texts that mean "no value" in common exports.
var missingCells = []string{"", "na", "n/a", "nan", "null", "none", "?"}

// utf8BOM is the byte order mark some editors put before the first header.
const utf8BOM = "\ufeff"

// sniff strips a UTF-8 byte order mark from r and, when comma is 0, picks
// the separator of ',', ';' and tab that splits the first line into the
// most fields outside quotes (',' on a tie or a one-column file).
func sniff(r io.Reader, comma rune) (io.Reader, rune, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == utf8BOM {
		br.Discard(3)
	}
	if comma != 0 {
		return br, comma, nil
	}
	// Look at the first line only, up to 64 KiB.
	head, _ := br.Peek(64 << 10)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	counts := map[rune]int{}
	quoted := false
	for _, c := range string(head) {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return br, best, nil
}

// cellText quotes a cell for an error message, shortened so that a whole
// misread row does not fill the terminal.
func cellText(c string) string {
	const maxLen = 40
	if r := []rune(c); len(r) > maxLen {
		return strconv.Quote(string(r[:maxLen])) + "…"
	}
	return strconv.Quote(c)
}

// delimiterName is how errors and hints name a separator.
func delimiterName(c rune) string {
	if c == '\t' {
		return "tab"
	}
	return strconv.QuoteRune(c)
}

func readCSV(r io.Reader, name string, opt CSVOptions) (*Dataset, error) {
	r, comma, err := sniff(r, opt.Comma)
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	cr := csv.NewReader(r)
	cr.Comma = comma
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
	label := opt.LabelColumn
	if label == "" && opt.DefaultLabel != "" && slices.Contains(header, opt.DefaultLabel) {
		label = opt.DefaultLabel
	}
	if label != "" {
		if header == nil {
			return nil, fmt.Errorf("label column %q requested but the file has no header row (its first row is all numbers); add a header or leave LabelColumn empty", label)
		}
		labelCol = slices.Index(header, label)
		if labelCol < 0 {
			hint := ""
			if len(header) == 1 && comma != ';' && strings.ContainsAny(header[0], ";\t") {
				hint = "; the file may use another separator: pass -delimiter"
			}
			return nil, fmt.Errorf("label column %q not in header %q (separator %s)%s", label, header, delimiterName(comma), hint)
		}
	}
	nfeat := ncol
	if labelCol >= 0 {
		nfeat--
	}
	if nfeat < 1 {
		return nil, fmt.Errorf("no feature columns (header %q, label column %q)", header, label)
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
			return fmt.Errorf("line %d: ragged row: %d fields, want %d like the first row (separator %s)", line, len(rec), ncol, delimiterName(comma))
		}
		for j, c := range rec {
			c = strings.TrimSpace(c)
			if slices.Contains(missingCells, strings.ToLower(c)) {
				if opt.Missing && j != labelCol {
					x = append(x, float32(math.NaN()))
					continue
				}
				if j == labelCol {
					return fmt.Errorf("line %d, %s: missing label %s; every row needs its label", line, colName(j), cellText(c))
				}
				return fmt.Errorf("line %d, %s: missing value %s; remove the row, fill the value in, or pass -impute mean, median or zero", line, colName(j), cellText(c))
			}
			v, err := strconv.ParseFloat(c, 64)
			if err != nil && comma == ';' && strings.Count(c, ",") == 1 && !strings.Contains(c, ".") {
				// ';'-separated exports (Excel in many locales) write decimal commas.
				v, err = strconv.ParseFloat(strings.Replace(c, ",", ".", 1), 64)
			}
			if err != nil {
				hint := ""
				for _, other := range []rune{',', ';', '\t'} {
					if other != comma && strings.ContainsRune(c, other) {
						hint = fmt.Sprintf(" (the file may be separated by %s: pass -delimiter)", delimiterName(other))
						break
					}
				}
				return fmt.Errorf("line %d, %s: cannot parse %s as a number%s", line, colName(j), cellText(c), hint)
			}
			if math.IsInf(v, 0) {
				return fmt.Errorf("line %d, %s: value %s is not finite; remove or replace it", line, colName(j), cellText(c))
			}
			if j == labelCol {
				if v != math.Trunc(v) || v < 0 || v > math.MaxInt32 {
					return fmt.Errorf("line %d, %s: label %s is not a non-negative integer", line, colName(j), cellText(c))
				}
				labels = append(labels, int(v))
				continue
			}
			if math.Abs(v) > math.MaxFloat32 {
				return fmt.Errorf("line %d, %s: value %s overflows float32", line, colName(j), cellText(c))
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
	d := &Dataset{Name: name, X: x, Labels: labels, N: n, C: 1, H: 1, W: nfeat}
	if header != nil {
		d.Columns = slices.Delete(slices.Clone(header), max(labelCol, 0), max(labelCol+1, 0))
		if labelCol >= 0 {
			d.LabelColumn = label
		}
	}
	return d, nil
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
	r, comma, err := sniff(r, 0)
	if err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	cr := csv.NewReader(r)
	cr.Comma = comma
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
