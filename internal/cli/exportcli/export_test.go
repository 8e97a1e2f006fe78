package exportcli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/train"
)

func TestExport(t *testing.T) {
	tr, test, err := hourglass.LoadData("sample")
	require.NoError(t, err)
	dir := t.TempDir()
	_, _, err = hourglass.Train(context.Background(), tr.Head(256), hourglass.Config{Epochs: 1, OutDir: dir})
	require.NoError(t, err)
	last := filepath.Join(dir, train.LastName)
	run := func(args ...string) (int, string) {
		var o, e bytes.Buffer
		code := Run("hourglass export", args, &o, &e)
		return code, o.String() + e.String()
	}

	// Weights only: a third of the Adam checkpoint, scoring as it does.
	small := filepath.Join(dir, "weights.safetensors")
	code, out := run("-checkpoint", last, "-o", small, "-format", "safetensors")
	require.Equal(t, 0, code, out)
	full, err := os.Stat(last)
	require.NoError(t, err)
	st, err := os.Stat(small)
	require.NoError(t, err)
	assert.Less(t, st.Size(), full.Size()/2, "optimizer moments are dropped")
	a, err := hourglass.Load(last)
	require.NoError(t, err)
	b, err := hourglass.Load(small)
	require.NoError(t, err)
	sa, err := a.Score(test.X[:5*784])
	require.NoError(t, err)
	sb, err := b.Score(test.X[:5*784])
	require.NoError(t, err)
	assert.Equal(t, sa, sb)

	// ONNX: the weights (≈ parameters × 4 bytes) are in the file.
	onnxPath := filepath.Join(dir, "m.onnx")
	code, out = run("-checkpoint", last, "-o", onnxPath)
	require.Equal(t, 0, code, out)
	ost, err := os.Stat(onnxPath)
	require.NoError(t, err)
	assert.Greater(t, ost.Size(), int64(4*200000), "the deep model's ~200k weights")

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-o", "x"}, 2, "-checkpoint is required"},
		{[]string{"-checkpoint", last}, 2, "-o is required"},
		{[]string{"-checkpoint", last, "-o", "x", "-format", "tflite"}, 2, `-format "tflite"`},
		{[]string{"-checkpoint", last, "-o", "x", "-part", "middle"}, 2, `-part "middle"`},
		{[]string{"-checkpoint", filepath.Join(dir, "missing.safetensors"), "-o", filepath.Join(dir, "y.onnx")}, 1, "missing.safetensors"},
	} {
		code, out := run(c.args...)
		assert.Equal(t, c.code, code, out)
		assert.Contains(t, out, c.want)
	}
}
