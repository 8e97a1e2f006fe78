package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// NoLabel is the LoadOptions.LabelColumn that reads every CSV column as a
// feature, even one named "label".
const NoLabel = "none"

// LoadOptions are the choices the commands pass to LoadWith.
type LoadOptions struct {
	// LabelColumn names the CSV column holding integer labels; "" takes the
	// column named "label" when the header has one, NoLabel takes none.
	LabelColumn string
	// Delimiter separates CSV fields; 0 detects ',', ';' or tab.
	Delimiter rune
	// Missing reads missing CSV cells as NaN (for an Imputer) instead of
	// failing on them.
	Missing bool
}

// IsCSV reports whether source names a CSV file.
func IsCSV(source string) bool { return strings.EqualFold(filepath.Ext(source), ".csv") }

// IsShardSource reports whether source names shards to stream (OpenStream)
// rather than a data set to load whole (Load): a glob, a .npy file, or a
// directory other than an IDX data set (one holding train-images-idx3-ubyte).
// A built-in source name, a single CSV and an IDX directory are not.
func IsShardSource(source string) bool {
	if slices.Contains(Sources(), source) {
		return false
	}
	st, err := os.Stat(source)
	switch {
	case err != nil:
		return strings.ContainsAny(source, "*?[")
	case st.IsDir():
		for _, n := range []string{"train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"} {
			if _, err := os.Stat(filepath.Join(source, n)); err == nil {
				return false
			}
		}
		return true
	}
	return ShardFormat(source) == FormatNPY
}

// LoadWith is Load with the CSV settings of opt; they are an error for
// sources that are not CSV files.
func LoadWith(source string, opt LoadOptions) (*Splits, error) {
	if !IsCSV(source) {
		if opt.LabelColumn != "" && opt.LabelColumn != NoLabel {
			return nil, fmt.Errorf("-label-column %q applies to .csv sources, not %s (its labels come with it)", opt.LabelColumn, source)
		}
		if opt.Delimiter != 0 {
			return nil, fmt.Errorf("-delimiter applies to .csv sources, not %s", source)
		}
		return Load(source)
	}
	co := CSVOptions{LabelColumn: opt.LabelColumn, DefaultLabel: "label", Comma: opt.Delimiter, Missing: opt.Missing}
	if opt.LabelColumn == NoLabel {
		co.LabelColumn, co.DefaultLabel = "", ""
	}
	d, err := LoadCSV(source, co)
	if err != nil {
		return nil, err
	}
	return &Splits{Train: d}, nil
}

// ParseDelimiter reads a -delimiter value: "" or "auto" (detect), "tab" or
// "\t", or a single character such as , ; or |.
func ParseDelimiter(s string) (rune, error) {
	switch s {
	case "", "auto":
		return 0, nil
	case "tab", `\t`, "\t":
		return '\t', nil
	}
	r := []rune(s)
	if len(r) != 1 || r[0] == '"' || r[0] == '\n' || r[0] == '\r' {
		return 0, fmt.Errorf("-delimiter %q: want auto, tab or one character such as , ; |", s)
	}
	return r[0], nil
}

// LabelSummary says, for the user, which column of d holds its labels and
// what values they take: `column "label" (2 values: 0×90, 1×10)`. It is ""
// when d has no labels from a CSV column.
func LabelSummary(d *Dataset) string {
	if d.LabelColumn == "" || d.Labels == nil {
		return ""
	}
	counts := map[int]int{}
	var order []int
	for _, l := range d.Labels {
		if counts[l] == 0 {
			order = append(order, l)
		}
		counts[l]++
	}
	slices.Sort(order)
	parts := make([]string, 0, min(len(order), 6))
	for i, l := range order {
		if i == 5 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%d×%d", l, counts[l]))
	}
	values := "values"
	if len(order) == 1 {
		values = "value"
	}
	return fmt.Sprintf("column %q (%d %s: %s)", d.LabelColumn, len(order), values, strings.Join(parts, ", "))
}
