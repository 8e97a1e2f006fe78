package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadersRefuseHostileFiles: special files are refused without
// blocking, forged sizes cost no more than a few times the file, and every
// error is one line naming the file.
func TestReadersRefuseHostileFiles(t *testing.T) {
	dir := t.TempDir()
	fifoCSV := filepath.Join(dir, "fifo.csv")
	require.NoError(t, syscall.Mkfifo(fifoCSV, 0o600))
	fifoIDX := filepath.Join(dir, "fifo-idx3-ubyte")
	require.NoError(t, syscall.Mkfifo(fifoIDX, 0o600))
	// A directory whose training images are a FIFO.
	fifoDir := filepath.Join(dir, "fifodir")
	require.NoError(t, os.MkdirAll(fifoDir, 0o755))
	require.NoError(t, syscall.Mkfifo(filepath.Join(fifoDir, "train-images-idx3-ubyte"), 0o600))
	// A fashion-mnist directory with label 200 at index 2.
	fashion := filepath.Join(dir, "fashion-mnist")
	writeFile(t, filepath.Join(fashion, "train-images-idx3-ubyte"), idxBytes(t, []int{3, 1, 1}, []byte{0, 1, 2}, false))
	writeFile(t, filepath.Join(fashion, "train-labels-idx1-ubyte"), idxBytes(t, []int{3}, []byte{3, 9, 200}, false))
	// Dimensions that claim 1 GB in a 20-byte file.
	forged := filepath.Join(dir, "forged-idx3-ubyte")
	writeFile(t, forged, []byte{0, 0, 8, 3, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 1, 2, 3, 4})
	csvDir := filepath.Join(dir, "csvdir.csv")
	require.NoError(t, os.MkdirAll(csvDir, 0o755))

	load := func(p string) func() error { return func() error { _, err := Load(p); return err } }
	csv := func(p string) func() error { return func() error { _, err := LoadCSV(p, CSVOptions{}); return err } }
	images := func(p string) func() error { return func() error { _, err := LoadIDXImages(p); return err } }
	labels := func(p string) func() error { return func() error { _, err := LoadIDXLabels(p); return err } }
	cases := []struct {
		name, path string
		call       func() error
		want       string
	}{
		{"csv fifo via Load", fifoCSV, load(fifoCSV), "named pipe"},
		{"csv fifo", fifoCSV, csv(fifoCSV), "named pipe"},
		{"csv dev zero", "/dev/zero", csv("/dev/zero"), "character device"},
		{"csv directory", csvDir, csv(csvDir), "a directory"},
		{"idx images fifo", fifoIDX, images(fifoIDX), "named pipe"},
		{"idx labels dev urandom", "/dev/urandom", labels("/dev/urandom"), "character device"},
		{"idx images dev zero", "/dev/zero", images("/dev/zero"), "character device"},
		{"directory with a fifo", fifoDir, load(fifoDir), "holds no train-images-idx3-ubyte"},
		{"label 200 of 10 classes", fashion, load(fashion), "train-labels-idx1-ubyte: label 200 at index 2 is outside [0,10)"},
		{"forged dimensions", forged, images(forged), "truncated: want 1073741824 bytes of data, got 4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.path); err != nil {
				t.Skipf("%s not available: %v", tc.path, err)
			}
			var err error
			done := make(chan struct{})
			alloc := allocated(func() {
				go func() { defer close(done); err = tc.call() }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatalf("reading %s blocked", tc.path)
				}
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.path)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
			assert.Less(t, alloc, uint64(1<<20))
		})
	}
}

// FuzzReadCSV: no input panics; an accepted file gives a consistent
// dataset whose values are finite.
func FuzzReadCSV(f *testing.F) {
	f.Add("x1, y ,x2\n1.5,2,-3\n4,0,5e2\n", "y")
	f.Add("1,2\n3,4\n5,6\n", "")
	f.Add("a;label\r\n1;3\r\n\r\n2;4.0\r\n", "label")
	f.Add("a,b\n1,NaN\n", "")
	f.Add("a,b\n1\n", "")
	f.Add("\"a\nb\",c\n1,2\n", "c")
	f.Add("label,x\n1e300,1\n", "label")
	f.Fuzz(func(t *testing.T, content, label string) {
		d, err := readCSV(strings.NewReader(content), "fuzz.csv", CSVOptions{LabelColumn: label})
		if err != nil {
			require.Nil(t, d)
			return
		}
		require.NoError(t, d.Validate())
		require.Equal(t, d.N*d.W, len(d.X))
		if label != "" {
			require.Len(t, d.Labels, d.N)
		}
		// Reading the same bytes from a file gives the same dataset.
		p := filepath.Join(t.TempDir(), "in.csv")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		d2, err := LoadCSV(p, CSVOptions{LabelColumn: label})
		require.NoError(t, err)
		require.Equal(t, d.X, d2.X)
		require.True(t, bytes.Equal([]byte(d.Name), []byte("fuzz.csv")))
	})
}
