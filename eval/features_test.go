package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteNPYRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, shape := range [][]int{{6}, {2, 3}, {3, 2}, {1, 2, 3}, {1, 1, 2, 3}, {0, 4}} {
		n := 1
		for _, s := range shape {
			n *= s
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i)*0.5 - 1.25
		}
		path := filepath.Join(dir, "a.npy")
		require.NoError(t, WriteNPY(path, data, shape))

		f, err := os.Open(path)
		require.NoError(t, err)
		r, err := npyio.NewReader(f)
		require.NoError(t, err)
		assert.Equal(t, "'<f4'", r.Header.Descr.Type) // npyio keeps the quotes
		assert.False(t, r.Header.Descr.Fortran)
		assert.Equal(t, shape, r.Header.Descr.Shape)
		var back []float32
		if n > 0 {
			require.NoError(t, r.Read(&back))
			assert.Equal(t, data, back, "shape %v", shape)
		}
		require.NoError(t, f.Close())

		// The data starts on a 64-byte boundary, as the format asks.
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Zero(t, (len(raw)-4*n)%64, "header length for shape %v", shape)
	}
}

func TestWriteNPYErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.npy")
	err := WriteNPY(path, make([]float32, 5), []int{2, 3})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.npy")
	assert.Contains(t, err.Error(), "[2 3]")
	assert.NoFileExists(t, path)

	err = WriteNPY(path, nil, []int{-1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "negative")
}

func TestWriteFeaturesCSV(t *testing.T) {
	dir := t.TempDir()
	codes := []float32{0.5, -1, 2.25, 1e-7, 3, 0}
	path := filepath.Join(dir, "f.csv")
	require.NoError(t, WriteFeaturesCSV(path, codes, 2, 3, []int{7, 0}))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "z0,z1,z2,label\n0.5,-1,2.25,7\n1e-07,3,0,0\n", string(raw))

	require.NoError(t, WriteFeaturesCSV(path, codes, 3, 2, nil))
	raw, err = os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	assert.Equal(t, []string{"z0,z1", "0.5,-1", "2.25,1e-07", "3,0"}, lines)

	for _, tc := range []struct {
		name   string
		codes  []float32
		n, k   int
		labels []int
		want   string
	}{
		{"length mismatch", codes, 4, 2, nil, "want n*k"},
		{"label count", codes, 2, 3, []int{1}, "1 labels for 2 rows"},
		{"zero k", nil, 0, 0, nil, "k=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := WriteFeaturesCSV(filepath.Join(dir, "bad.csv"), tc.codes, tc.n, tc.k, tc.labels)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "bad.csv")
		})
	}
}

func TestWriteLabelsNPY(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []int
	}{
		{"classes", []int{7, 0, 9, 3, 3}},
		{"negative and wide", []int{-1, 1 << 30, 0}},
		{"empty", []int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "labels.npy")
			require.NoError(t, WriteLabelsNPY(path, tc.labels))
			f, err := os.Open(path)
			require.NoError(t, err)
			defer f.Close()
			r, err := npyio.NewReader(f)
			require.NoError(t, err)
			assert.Equal(t, "'<i4'", r.Header.Descr.Type)
			assert.Equal(t, []int{len(tc.labels)}, r.Header.Descr.Shape)
			if len(tc.labels) > 0 {
				var back []int32
				require.NoError(t, r.Read(&back))
				want := make([]int32, len(tc.labels))
				for i, l := range tc.labels {
					want[i] = int32(l)
				}
				assert.Equal(t, want, back)
			}
		})
	}
	err := WriteLabelsNPY(filepath.Join(t.TempDir(), "big.npy"), []int{1 << 40})
	assert.ErrorContains(t, err, "int32")
}
