package dataset

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func csvFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data.csv")
	writeFile(t, p, []byte(content))
	return p
}

func TestLoadCSV(t *testing.T) {
	cases := []struct {
		name    string
		content string
		opt     CSVOptions
		x       []float32
		labels  []int
		w       int
	}{
		{"header and label", "x1, y ,x2\n1.5,2,-3\n4,0,5e2\n", CSVOptions{LabelColumn: "y"}, []float32{1.5, -3, 4, 500}, []int{2, 0}, 2},
		{"no header", "1,2\n3,4\n5,6\n", CSVOptions{}, []float32{1, 2, 3, 4, 5, 6}, nil, 2},
		{"header, no label", "a,b,c\n1,2,3\n", CSVOptions{}, []float32{1, 2, 3}, nil, 3},
		{"BOM before a label header", "\ufefflabel,a\n1,2\n0,3\n", CSVOptions{DefaultLabel: "label"}, []float32{2, 3}, []int{1, 0}, 1},
		{"detected semicolon", "a;b;label\n1,5;2;0\n3;4;1\n", CSVOptions{DefaultLabel: "label"}, []float32{1.5, 2, 3, 4}, []int{0, 1}, 2},
		{"detected tab", "a\tb\n1\t2\n", CSVOptions{}, []float32{1, 2}, nil, 2},
		{"quoted commas do not count", "\"a,b\";c;d\n1;2;3\n", CSVOptions{}, []float32{1, 2, 3}, nil, 3},
		{"semicolon, blank line, CRLF", "a;label\r\n1;3\r\n\r\n2;4.0\r\n", CSVOptions{LabelColumn: "label", Comma: ';'}, []float32{1, 2}, []int{3, 4}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := csvFile(t, c.content)
			d, err := LoadCSV(p, c.opt)
			require.NoError(t, err)
			require.NoError(t, d.Validate())
			assert.Equal(t, p, d.Name)
			assert.Equal(t, c.x, d.X)
			assert.Equal(t, c.labels, d.Labels)
			assert.Equal(t, [4]int{len(c.x) / c.w, 1, 1, c.w}, [4]int{d.N, d.C, d.H, d.W})
		})
	}
}

func TestLoadCSVErrors(t *testing.T) {
	cases := []struct {
		name    string
		content string
		opt     CSVOptions
		want    string
	}{
		{"empty", "", CSVOptions{}, "empty file"},
		{"header only", "a,b\n", CSVOptions{}, "no data rows"},
		{"ragged", "a,b\n1,2\n3\n", CSVOptions{}, "line 3: ragged row: 1 fields, want 2"},
		{"non-numeric with header", "a,b\n1,2\n3,x\n", CSVOptions{}, `line 3, column 2 ("b"): cannot parse "x" as a number`},
		{"non-numeric no header", "1,2\n3,4\n5,,\n", CSVOptions{}, "line 3: ragged row"},
		{"empty cell", "1,2\n3,\n", CSVOptions{}, `line 2, column 2: missing value ""`},
		{"NaN", "a,b\n1,NaN\n", CSVOptions{}, `line 2, column 2 ("b"): missing value "NaN"`},
		{"NA", "a,b\n1,2\n3,NA\n", CSVOptions{}, `line 3, column 2 ("b"): missing value "NA"`},
		{"wrong separator", "a;b\n1;2\n", CSVOptions{Comma: ','}, `line 2, column 1 ("a;b"): cannot parse "1;2" as a number (the file may be separated by ';': pass -delimiter)`},
		{"long cell shortened", "a,b\n1," + strings.Repeat("x", 100) + "\n", CSVOptions{}, `cannot parse "` + strings.Repeat("x", 40) + `"… as a number`},
		{"Inf", "1,2\n-Inf,2\n", CSVOptions{}, `line 2, column 1: value "-Inf" is not finite`},
		{"float32 overflow", "1\n1e300\n", CSVOptions{}, "overflows float32"},
		{"missing label column", "a,b\n1,2\n", CSVOptions{LabelColumn: "y"}, `label column "y" not in header ["a" "b"]`},
		{"label without header", "1,2\n", CSVOptions{LabelColumn: "y"}, "no header row"},
		{"fractional label", "a,y\n1,2.5\n", CSVOptions{LabelColumn: "y"}, `line 2, column 2 ("y"): label "2.5" is not a non-negative integer`},
		{"negative label", "a,y\n1,-1\n", CSVOptions{LabelColumn: "y"}, "not a non-negative integer"},
		{"only label column", "y\n1\n", CSVOptions{LabelColumn: "y"}, "no feature columns"},
		{"bad quoting", "a,b\n1,\"2\n", CSVOptions{}, "parse"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := csvFile(t, c.content)
			_, err := LoadCSV(p, c.opt)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), p, "error names the file")
		})
	}
	_, err := LoadCSV(filepath.Join(t.TempDir(), "missing.csv"), CSVOptions{})
	assert.ErrorContains(t, err, "missing.csv")
}
