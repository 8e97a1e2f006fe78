package checkpoint

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const python = "/usr/bin/python3"

// requireNumpy skips the test unless python3 with numpy is installed.
func requireNumpy(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s not found", python)
	}
	if err := exec.Command(python, "-c", "import numpy").Run(); err != nil {
		t.Skip("python3 has no numpy")
	}
}

// pyReader parses a safetensors file the way the reference format spec
// describes, with struct, json and numpy only, and prints the content as JSON.
const pyReader = `
import json, struct, sys
import numpy as np
with open(sys.argv[1], "rb") as fh:
    raw = fh.read()
(n,) = struct.unpack("<Q", raw[:8])
header = json.loads(raw[8:8 + n].decode("utf-8"))
buf = raw[8 + n:]
out = {"metadata": header.pop("__metadata__", {}), "tensors": {}}
for name, e in header.items():
    assert e["dtype"] == "F32", e
    b, end = e["data_offsets"]
    arr = np.frombuffer(buf[b:end], dtype="<f4").reshape(e["shape"])
    out["tensors"][name] = {"shape": list(arr.shape), "bits": [int(x) for x in arr.reshape(-1).view("<u4")]}
print(json.dumps(out))
`

// pyWriter writes a safetensors file with numpy in an order and layout that
// differ from Encode: reverse-sorted names, no padding, a 0-dim scalar.
const pyWriter = `
import json, struct, sys
import numpy as np
arrays = {
    "zeta": np.arange(6, dtype=np.float32).reshape(2, 3) / 3,
    "alpha": np.array(-1.5, dtype=np.float32),
    "mid": np.array([np.inf, -0.0, 1e-38], dtype=np.float32),
}
header, chunks, off = {}, [], 0
for name, a in arrays.items():
    data = a.astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(data)]}
    chunks.append(data)
    off += len(data)
header["__metadata__"] = {"framework": "numpy"}
h = json.dumps(header).encode("utf-8")
with open(sys.argv[1], "wb") as fh:
    fh.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))
`

func TestPythonReadsOurFiles(t *testing.T) {
	requireNumpy(t)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	f := sample()
	require.NoError(t, Save(path, f))
	out, err := exec.Command(python, "-c", pyReader, path).Output()
	require.NoError(t, err, "python reader failed: %s", out)
	var got struct {
		Metadata map[string]string
		Tensors  map[string]struct {
			Shape []int
			Bits  []uint32
		}
	}
	require.NoError(t, json.Unmarshal(out, &got))
	assert.Equal(t, f.Metadata, got.Metadata)
	require.Len(t, got.Tensors, len(f.Tensors))
	for _, want := range f.Tensors {
		g, ok := got.Tensors[want.Name]
		require.True(t, ok, "python did not see tensor %q", want.Name)
		assert.Equal(t, len(want.Shape), len(g.Shape))
		if len(want.Shape) > 0 {
			assert.Equal(t, want.Shape, g.Shape)
		}
		require.Len(t, g.Bits, len(want.Data))
		for i, v := range want.Data {
			assert.Equal(t, math.Float32bits(v), g.Bits[i], "%s[%d]", want.Name, i)
		}
	}
}

func TestWeReadPythonFiles(t *testing.T) {
	requireNumpy(t)
	path := filepath.Join(t.TempDir(), "py.safetensors")
	out, err := exec.Command(python, "-c", pyWriter, path).CombinedOutput()
	require.NoError(t, err, "python writer failed: %s", out)
	f, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"framework": "numpy"}, f.Metadata)
	zeta, ok := f.Get("zeta")
	require.True(t, ok)
	assert.Equal(t, []int{2, 3}, zeta.Shape)
	for i, v := range zeta.Data {
		assert.Equal(t, float32(i)/3, v)
	}
	alpha, ok := f.Get("alpha")
	require.True(t, ok)
	assert.Empty(t, alpha.Shape)
	assert.Equal(t, []float32{-1.5}, alpha.Data)
	mid, ok := f.Get("mid")
	require.True(t, ok)
	assert.True(t, math.IsInf(float64(mid.Data[0]), 1))
	assert.True(t, math.Signbit(float64(mid.Data[1])))
	assert.Equal(t, float32(1e-38), mid.Data[2])
	// Buffer order is preserved: zeta was written first.
	assert.Equal(t, "zeta", f.Tensors[0].Name)
}
