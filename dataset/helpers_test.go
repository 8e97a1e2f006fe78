package dataset

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// idxBytes builds an IDX file in memory, optionally gzipped.
func idxBytes(t testing.TB, dims []int, data []byte, gz bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if !gz {
		require.NoError(t, WriteIDX(&buf, dims, data))
		return buf.Bytes()
	}
	zw := gzip.NewWriter(&buf)
	require.NoError(t, WriteIDX(zw, dims, data))
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// seq returns n bytes i*step mod 256.
func seq(n, step int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * step)
	}
	return b
}

// writeIDXDir writes a synthetic MNIST-style directory: nTrain/nTest images of
// h×w with labels i%10 (labels omitted when the count is negative).
func writeIDXDir(t testing.TB, dir string, nTrain, nTrainLabels, nTest, nTestLabels, h, w int, gz bool) {
	t.Helper()
	suffix := ""
	if gz {
		suffix = ".gz"
	}
	put := func(part string, n, nl int) {
		if n > 0 {
			writeFile(t, filepath.Join(dir, part+"-images-idx3-ubyte"+suffix), idxBytes(t, []int{n, h, w}, seq(n*h*w, 7), gz))
		}
		if nl > 0 {
			lb := make([]byte, nl)
			for i := range lb {
				lb[i] = byte(i % 10)
			}
			writeFile(t, filepath.Join(dir, part+"-labels-idx1-ubyte"+suffix), idxBytes(t, []int{nl}, lb, gz))
		}
	}
	put("train", nTrain, nTrainLabels)
	put("t10k", nTest, nTestLabels)
}
