package hourglass_test

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
)

// TestREADMEPythonLoader runs the README's numpy-only loader on a trained
// checkpoint and requires hourglass's own reconstruction, so the README
// cannot drift from the file format.
func TestREADMEPythonLoader(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3 with numpy is needed on CI: %v", err)
		}
		t.Skipf("python3 with numpy not available: %v", err)
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(readme), "<!-- python-loader -->\n```python\n")
	require.True(t, ok, "README.md has no python-loader block")
	snippet, _, ok := strings.Cut(after, "```")
	require.True(t, ok)

	tr, test, err := hourglass.LoadData("sample")
	require.NoError(t, err)
	for _, kind := range []string{"deep", "basic"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			m, _, err := hourglass.Train(context.Background(), tr.Head(256), hourglass.Config{Kind: kind, Epochs: 1})
			require.NoError(t, err)
			require.NoError(t, m.Save(filepath.Join(dir, "best.safetensors")))
			x := test.X[:8*m.InputDim()]
			writeF32(t, filepath.Join(dir, "images.f32"), x)
			cmd := exec.Command(python, "-c", snippet+"\nnp.asarray(recon, '<f4').tofile('recon.f32')\n")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			got := readF32(t, filepath.Join(dir, "recon.f32"))
			want, err := m.Reconstruct(x)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			for i := range want {
				assert.InDelta(t, want[i], got[i], 1e-5, "value %d", i)
			}
		})
	}
}

func writeF32(t *testing.T, path string, x []float32) {
	t.Helper()
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}
