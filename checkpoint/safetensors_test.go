package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sample returns a File exercising scalars, empty tensors, special floats
// and metadata.
func sample() *File {
	return &File{
		Tensors: []Tensor{
			{Name: "encoder.w", Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, 0, float32(math.Inf(1)), -0.125}},
			{Name: "bias", Shape: []int{3}, Data: []float32{0.1, 0.2, 0.3}},
			{Name: "scalar", Shape: []int{}, Data: []float32{42}},
			{Name: "empty", Shape: []int{0, 4}, Data: []float32{}},
			{Name: "ünïcode \"quoted\"", Shape: []int{1, 1, 1}, Data: []float32{math.SmallestNonzeroFloat32}},
		},
		Metadata: map[string]string{"epoch": "3", "model": "dense-ae", "json": `{"a":1}`},
	}
}

// requireSameFile compares two Files ignoring tensor order and nil vs empty.
func requireSameFile(t *testing.T, want, got *File) {
	t.Helper()
	require.Len(t, got.Tensors, len(want.Tensors))
	for _, w := range want.Tensors {
		g, ok := got.Get(w.Name)
		require.True(t, ok, "tensor %q missing", w.Name)
		assert.Equal(t, len(w.Shape), len(g.Shape), "rank of %q", w.Name)
		if len(w.Shape) > 0 {
			assert.Equal(t, w.Shape, g.Shape, "shape of %q", w.Name)
		}
		require.Equal(t, len(w.Data), len(g.Data), "len of %q", w.Name)
		for i := range w.Data {
			require.Equal(t, math.Float32bits(w.Data[i]), math.Float32bits(g.Data[i]), "%q[%d]", w.Name, i)
		}
	}
	require.NotNil(t, got.Metadata)
	assert.Equal(t, len(want.Metadata), len(got.Metadata))
	for k, v := range want.Metadata {
		assert.Equal(t, v, got.Metadata[k])
	}
}

func encode(t *testing.T, f *File) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Encode(&buf, f))
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	many := &File{}
	for i := range 300 {
		many.Tensors = append(many.Tensors, Tensor{Name: fmt.Sprintf("layer%03d.w", i), Shape: []int{i % 5, 2}, Data: make([]float32, (i%5)*2)})
		for j := range many.Tensors[i].Data {
			many.Tensors[i].Data[j] = float32(i*10 + j)
		}
	}
	nan := &File{Tensors: []Tensor{{Name: "nan", Shape: []int{1}, Data: []float32{float32(math.NaN())}}}}
	cases := map[string]*File{
		"sample":         sample(),
		"nil metadata":   {Tensors: []Tensor{{Name: "a", Shape: []int{1}, Data: []float32{1}}}},
		"empty metadata": {Tensors: []Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1, 2}}}, Metadata: map[string]string{}},
		"no tensors":     {Metadata: map[string]string{"k": "v"}},
		"empty file":     {},
		"scalar only":    {Tensors: []Tensor{{Name: "s", Data: []float32{-7}}}},
		"many tensors":   many,
		"nan bits":       nan,
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			data := encode(t, f)
			hlen := binary.LittleEndian.Uint64(data[:8])
			assert.Zero(t, (8+hlen)%8, "data buffer must start 8-byte aligned")
			got, err := Decode(data)
			require.NoError(t, err)
			requireSameFile(t, f, got)

			path := filepath.Join(t.TempDir(), "m.safetensors")
			require.NoError(t, Save(path, f))
			loaded, err := Load(path)
			require.NoError(t, err)
			requireSameFile(t, f, loaded)
			onDisk, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, data, onDisk, "Save must write exactly Encode's bytes")
		})
	}
}

func TestDecodeOrdersTensorsByOffset(t *testing.T) {
	got, err := Decode(encode(t, sample()))
	require.NoError(t, err)
	var names []string
	for _, tn := range got.Tensors {
		names = append(names, tn.Name)
	}
	// Encode sorts by name; "empty" has zero bytes at offset 0 and sorts
	// before "encoder.w" which also starts at 0.
	assert.Equal(t, []string{"bias", "empty", "encoder.w", "scalar", "ünïcode \"quoted\""}, names)
}

func TestEncodeDeterministic(t *testing.T) {
	a := sample()
	b := sample()
	// Reverse tensor order and rebuild the metadata map in another order.
	for i, j := 0, len(b.Tensors)-1; i < j; i, j = i+1, j-1 {
		b.Tensors[i], b.Tensors[j] = b.Tensors[j], b.Tensors[i]
	}
	b.Metadata = map[string]string{"model": "dense-ae", "json": `{"a":1}`, "epoch": "3"}
	first := encode(t, a)
	for range 20 {
		assert.Equal(t, first, encode(t, a))
	}
	assert.Equal(t, first, encode(t, b))
	// Header starts with metadata then tensors in name order.
	hlen := binary.LittleEndian.Uint64(first[:8])
	assert.Contains(t, string(first[8:8+hlen]), `{"__metadata__":{"epoch":"3","json":"{\"a\":1}","model":"dense-ae"},"bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}`)
}

func TestEncodeRejectsBadFiles(t *testing.T) {
	cases := map[string]struct {
		f    *File
		want string
	}{
		"nil":        {nil, "nil File"},
		"empty name": {&File{Tensors: []Tensor{{Shape: []int{1}, Data: []float32{1}}}}, "empty name"},
		"duplicate":  {&File{Tensors: []Tensor{{Name: "a", Data: []float32{1}}, {Name: "a", Data: []float32{2}}}}, `duplicate tensor name "a"`},
		"reserved":   {&File{Tensors: []Tensor{{Name: "__metadata__", Data: []float32{1}}}}, "reserved"},
		"shape":      {&File{Tensors: []Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3}}}}, `tensor "w": shape [2 2] needs 4 values but Data has 3`},
		"bad utf8":   {&File{Tensors: []Tensor{{Name: "w\xff", Data: []float32{1}}}}, "not valid UTF-8"},
		"negative":   {&File{Tensors: []Tensor{{Name: "w", Shape: []int{-1}, Data: nil}}}, "negative"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := Encode(&bytes.Buffer{}, c.f)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			path := filepath.Join(t.TempDir(), "x.safetensors")
			require.Error(t, Save(path, c.f))
			assert.NoFileExists(t, path)
			entries, _ := os.ReadDir(filepath.Dir(path))
			assert.Empty(t, entries, "invalid input must not leave files behind")
		})
	}
}

// rawFile assembles header length + header + buffer without validation.
func rawFile(header string, buf []byte) []byte {
	out := make([]byte, 8, 8+len(header)+len(buf))
	binary.LittleEndian.PutUint64(out, uint64(len(header)))
	out = append(out, header...)
	return append(out, buf...)
}

func TestDecodeRejectsCorruptInput(t *testing.T) {
	buf8 := make([]byte, 8)
	valid := encode(t, sample())
	hugeLen := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeLen, 1<<40)
	pastEnd := make([]byte, 16)
	binary.LittleEndian.PutUint64(pastEnd, 9)
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":             {nil, "shorter than the 8-byte"},
		"7 bytes":           {[]byte{1, 2, 3, 4, 5, 6, 7}, "shorter than the 8-byte"},
		"huge header len":   {hugeLen, "exceeds"},
		"header past end":   {pastEnd, "runs past the end"},
		"truncated buffer":  {valid[:len(valid)-3], "outside the"},
		"truncated header":  {valid[:20], "runs past the end"},
		"bad json":          {rawFile(`{"a":{"dtype":"F32",`, nil), "not a JSON object"},
		"json array":        {rawFile(`[1,2]`, nil), "not a JSON object"},
		"entry not object":  {rawFile(`{"a":5}`, nil), `tensor "a": bad header entry`},
		"unknown field":     {rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, buf8[:4]), "bad header entry"},
		"missing offsets":   {rawFile(`{"a":{"dtype":"F32","shape":[1]}}`, buf8[:4]), "needs dtype, shape and data_offsets"},
		"three offsets":     {rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, buf8[:4]), "must have 2 entries"},
		"wrong dtype":       {rawFile(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, buf8), "dtype F64; only F32 is supported"},
		"shape mismatch":    {rawFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, buf8), "shape [3] needs 12 bytes"},
		"negative dim":      {rawFile(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, buf8), "negative"},
		"offsets reversed":  {rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}`, buf8), "outside the 8-byte data buffer"},
		"offsets past end":  {rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, buf8), "outside the 8-byte data buffer"},
		"overlap":           {rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, buf8), "overlap"},
		"gap":               {rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, buf8), "gap in data buffer"},
		"trailing bytes":    {rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, buf8), "trailing bytes"},
		"bad metadata":      {rawFile(`{"__metadata__":{"k":1}}`, nil), "__metadata__ must map strings to strings"},
		"garbage":           {[]byte("PK\x03\x04 this is a zip file, not a checkpoint"), "exceeds"},
		"negative negative": {rawFile(`{"a":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,4]}}`, buf8[:4]), "negative"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Decode(c.data)
			require.Error(t, err)
			assert.Nil(t, f)
			assert.ErrorIs(t, err, ErrCorrupt)
			assert.Contains(t, err.Error(), c.want)
			assert.Contains(t, err.Error(), "not a hourglass checkpoint")
		})
	}
}

func TestDecodeAcceptsForeignLayout(t *testing.T) {
	// Other writers may order header keys arbitrarily, omit padding and put
	// tensors in a buffer order unrelated to names.
	buf := make([]byte, 12)
	binary.LittleEndian.PutUint32(buf[0:], math.Float32bits(5))
	binary.LittleEndian.PutUint32(buf[4:], math.Float32bits(6))
	binary.LittleEndian.PutUint32(buf[8:], math.Float32bits(7))
	data := rawFile(`{"z":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[],"data_offsets":[8,12]},"__metadata__":null}`, buf)
	f, err := Decode(data)
	require.NoError(t, err)
	require.Len(t, f.Tensors, 2)
	assert.Equal(t, "z", f.Tensors[0].Name)
	assert.Equal(t, []float32{5, 6}, f.Tensors[0].Data)
	a, ok := f.Get("a")
	require.True(t, ok)
	assert.Equal(t, []float32{7}, a.Data)
	assert.Empty(t, a.Shape)
	assert.NotNil(t, f.Metadata)
	_, ok = f.Get("missing")
	assert.False(t, ok)
	var nilFile *File
	_, ok = nilFile.Get("a")
	assert.False(t, ok)
}

func TestLoadErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.safetensors")
	_, err := Load(missing)
	require.Error(t, err)
	assert.Contains(t, err.Error(), missing)
	assert.ErrorIs(t, err, os.ErrNotExist)

	bad := filepath.Join(dir, "bad.safetensors")
	valid := encode(t, sample())
	require.NoError(t, os.WriteFile(bad, valid[:len(valid)/2], 0o644))
	_, err = Load(bad)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), bad)
	assert.Contains(t, err.Error(), "corrupted or truncated")
}
