package checkpoint

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allocated is the bytes f allocates, from the runtime's counters.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLoadRefusesHostileFiles: special files are refused without reading
// or blocking, and forged headers cost no more than a few times the file.
func TestLoadRefusesHostileFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.safetensors")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		return p
	}
	buf8 := make([]byte, 8)
	cases := []struct {
		name, path string
		want       string
	}{
		{"fifo", fifo, "named pipe"},
		{"dev zero", "/dev/zero", "character device"},
		{"dev urandom", "/dev/urandom", "character device"},
		{"directory", dir, "a directory"},
		{"huge shape, small file", write("huge.safetensors", rawFile(`{"a":{"dtype":"F32","shape":[1000000000,1000000000],"data_offsets":[0,8]}}`, buf8)), "needs 4000000000000000000 bytes"},
		{"huge offsets", write("offs.safetensors", rawFile(`{"a":{"dtype":"F32","shape":[1000000000],"data_offsets":[0,4000000000]}}`, buf8)), "outside the 8-byte data buffer"},
		{"header length 100 MB in a tiny file", write("hlen.safetensors", append([]byte{0, 0, 0, 6, 0, 0, 0, 0}, buf8...)), "runs past the end"},
		{"shape overflow", write("ovf.safetensors", rawFile(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}`, buf8)), "too many elements"},
		{"dtype", write("f16.safetensors", rawFile(`{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}`, buf8)), "only F32"},
		{"empty", write("empty.safetensors", nil), "shorter than the 8-byte"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.path); err != nil {
				t.Skipf("%s not available: %v", tc.path, err)
			}
			var f *File
			var err error
			done := make(chan struct{})
			alloc := allocated(func() {
				go func() { defer close(done); f, err = Load(tc.path) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatalf("Load(%s) blocked", tc.path)
				}
			})
			require.Error(t, err)
			assert.Nil(t, f)
			assert.Contains(t, err.Error(), tc.path)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
			assert.Less(t, alloc, uint64(1<<20), "Load allocated %d bytes", alloc)
		})
	}
}

// TestLoadAllocatesAboutTwiceTheFile: a valid file costs its bytes plus
// its decoded floats, not more.
func TestLoadAllocatesAboutTwiceTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.safetensors")
	data := make([]float32, 1<<20)
	for i := range data {
		data[i] = float32(i)
	}
	require.NoError(t, Save(path, &File{Tensors: []Tensor{{Name: "w", Shape: []int{1024, 1024}, Data: data}}}))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	var f *File
	alloc := allocated(func() { f, err = Load(path) })
	require.NoError(t, err)
	require.Len(t, f.Tensors, 1)
	assert.Equal(t, float32(12345), f.Tensors[0].Data[12345])
	assert.Less(t, alloc, uint64(3*fi.Size()), "Load of a %d-byte file allocated %d bytes", fi.Size(), alloc)
}

// FuzzDecode: no input panics, and whatever is accepted encodes back to a
// file that decodes to the same tensors.
func FuzzDecode(f *testing.F) {
	var buf bytes.Buffer
	require.NoError(f, Encode(&buf, sample()))
	valid := buf.Bytes()
	f.Add(valid)
	f.Add(valid[:len(valid)-5])
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}}`, make([]byte, 8)))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[1000000000,1000000000],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, make([]byte, 4)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := Decode(in)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			require.Nil(t, got)
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, got); err != nil {
			// Decode accepts names Encode refuses (e.g. invalid UTF-8 is
			// replaced by JSON, duplicates cannot occur); anything else is a bug.
			t.Skipf("accepted file does not re-encode: %v", err)
		}
		again, err := Decode(out.Bytes())
		require.NoError(t, err)
		requireSameFile(t, got, again)
	})
}
