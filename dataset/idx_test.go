package dataset

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIDXRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		dims []int
	}{
		{"labels", []int{7}},
		{"images", []int{3, 4, 5}},
		{"4d", []int{2, 3, 2, 2}},
	}
	for _, c := range cases {
		for _, gz := range []bool{false, true} {
			t.Run(c.name+map[bool]string{false: "/plain", true: "/gzip"}[gz], func(t *testing.T) {
				n := 1
				for _, d := range c.dims {
					n *= d
				}
				data := seq(n, 37)
				raw := idxBytes(t, c.dims, data, gz)
				if gz {
					assert.Equal(t, []byte{0x1f, 0x8b}, raw[:2])
				}
				dims, got, err := ReadIDX(bytes.NewReader(raw))
				require.NoError(t, err)
				assert.Equal(t, c.dims, dims)
				assert.Equal(t, data, got)
			})
		}
	}
}

func TestIDXHeaderBytes(t *testing.T) {
	raw := idxBytes(t, []int{2, 1, 1}, []byte{0, 255}, false)
	assert.Equal(t, []byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 255}, raw)
}

func TestReadIDXErrors(t *testing.T) {
	valid := idxBytes(t, []int{3, 2, 2}, seq(12, 1), false)
	validGz := idxBytes(t, []int{3, 2, 2}, seq(12, 1), true)
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "reading magic"},
		{"wrong magic", append([]byte{1, 2}, valid[2:]...), "bad magic 01 02 08 03"},
		{"float32 type", append([]byte{0, 0, 0x0D, 3}, valid[4:]...), "unsupported data type 0x0d (float32)"},
		{"unknown type", append([]byte{0, 0, 0x42, 3}, valid[4:]...), "unknown data type 0x42"},
		{"zero ndims", []byte{0, 0, 8, 0}, "bad number of dimensions 0"},
		{"too many dims", []byte{0, 0, 8, 200}, "bad number of dimensions 200"},
		{"zero dim", []byte{0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 0}, "dimension 1 is zero"},
		{"absurd dims", []byte{0, 0, 8, 2, 0, 1, 0, 0, 0, 1, 0, 0}, "sanity limit"},
		{"short dims", []byte{0, 0, 8, 3, 0, 0, 0, 3}, "reading 3 dimension sizes"},
		{"truncated", valid[:len(valid)-7], "truncated: want 12 bytes of data, got 5"},
		{"trailing", append(append([]byte{}, valid...), 9, 9), "trailing data after the 12 bytes"},
		{"truncated gz", validGz[:len(validGz)-12], "idx (gzip)"},
		{"gz trailing garbage", append(append([]byte{}, validGz...), 'x', 'y', 'z'), "idx (gzip)"},
		{"bad gz header", []byte{0x1f, 0x8b, 0, 0, 0}, "idx: gzip header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dims, data, err := ReadIDX(bytes.NewReader(c.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.Nil(t, dims)
			assert.Nil(t, data)
		})
	}
}

func TestReadIDXTruncatedGzipSaysTruncated(t *testing.T) {
	// Cut a gzip stream of a large, incompressible payload mid-data: the
	// error must say how much was wanted and how much arrived.
	data := make([]byte, 1<<16)
	x := uint32(1)
	for i := range data {
		x = x*1664525 + 1013904223
		data[i] = byte(x >> 24)
	}
	gz := idxBytes(t, []int{1 << 16}, data, true)
	_, _, err := ReadIDX(bytes.NewReader(gz[:len(gz)/2]))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "idx (gzip): truncated: want 65536 bytes of data, got")
}

func TestWriteIDXErrors(t *testing.T) {
	var buf bytes.Buffer
	assert.ErrorContains(t, WriteIDX(&buf, nil, nil), "0 dimensions")
	assert.ErrorContains(t, WriteIDX(&buf, []int{2, 0}, nil), "dimension 1 = 0")
	assert.ErrorContains(t, WriteIDX(&buf, []int{2, 2}, []byte{1}), "need 4 bytes, got 1")
}

func TestLoadIDXImagesAndLabels(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "img.gz")
	lbl := filepath.Join(dir, "lbl")
	writeFile(t, img, idxBytes(t, []int{2, 1, 3}, []byte{0, 51, 255, 102, 204, 0}, true))
	writeFile(t, lbl, idxBytes(t, []int{2}, []byte{3, 9}, false))

	d, err := LoadIDXImages(img)
	require.NoError(t, err)
	assert.Equal(t, [4]int{2, 1, 1, 3}, [4]int{d.N, d.C, d.H, d.W})
	assert.InDeltaSlice(t, []float32{0, 0.2, 1, 0.4, 0.8, 0}, d.X, 1e-7)
	assert.Nil(t, d.Labels)

	labels, err := LoadIDXLabels(lbl)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 9}, labels)

	_, err = LoadIDXImages(lbl)
	assert.ErrorContains(t, err, "1-dimensional IDX [2], want 3")
	_, err = LoadIDXLabels(img)
	assert.ErrorContains(t, err, "3-dimensional IDX [2 1 3], want 1")
	_, err = LoadIDXImages(filepath.Join(dir, "nope"))
	assert.ErrorContains(t, err, "nope")
}
