package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// npyBytes builds a .npy file of float32 (descr "<f4"), float64 ("<f8")
// or uint8 ("|u1", data given as 0..255) values.
func npyBytes(descr string, shape []int, data []float64) []byte {
	dims := make([]string, len(shape))
	for i, s := range shape {
		dims[i] = fmt.Sprint(s)
	}
	shp := strings.Join(dims, ", ")
	if len(shape) == 1 {
		shp += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shp)
	dict += strings.Repeat(" ", (64-(10+len(dict)+1)%64)%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	_ = binary.Write(&b, binary.LittleEndian, uint16(len(dict)))
	b.WriteString(dict)
	for _, v := range data {
		switch descr {
		case "<f4":
			_ = binary.Write(&b, binary.LittleEndian, float32(v))
		case "<f8":
			_ = binary.Write(&b, binary.LittleEndian, v)
		default:
			b.WriteByte(byte(v))
		}
	}
	return b.Bytes()
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return out.Bytes()
}

// readShard reads every row of a shard held in b.
func readShard(t *testing.T, name string, b []byte) (shape [3]int, pos []int, rows [][]float32, err error) {
	t.Helper()
	r, err := OpenShard(bytes.NewReader(b), name, "")
	if err != nil {
		return shape, nil, nil, err
	}
	defer r.Close()
	shape[0], shape[1], shape[2] = r.Shape()
	for {
		row := make([]float32, r.Dim())
		p, err := r.Next(row)
		if errors.Is(err, io.EOF) {
			return shape, pos, rows, nil
		}
		if err != nil {
			return shape, pos, rows, err
		}
		pos = append(pos, p)
		rows = append(rows, row)
	}
}

func TestOpenShardReadsEveryFormat(t *testing.T) {
	var idx bytes.Buffer
	require.NoError(t, WriteIDX(&idx, []int{2, 1, 2}, []byte{0, 255, 51, 102}))
	for _, tc := range []struct {
		name  string
		data  []byte
		shape [3]int
		pos   []int
		rows  [][]float32
	}{
		{"a.csv", []byte("1,2,3\n4,5,6\n"), [3]int{1, 1, 3}, []int{1, 2}, [][]float32{{1, 2, 3}, {4, 5, 6}}},
		{"header-label.csv", []byte("x,label,y\n1,7,2\n\n3,8,4\n"), [3]int{1, 1, 2}, []int{2, 4}, [][]float32{{1, 2}, {3, 4}}},
		{"zipped.csv.gz", gz(t, []byte("a,b\n0.5,-1\n")), [3]int{1, 1, 2}, []int{2}, [][]float32{{0.5, -1}}},
		{"f4.npy", npyBytes("<f4", []int{2, 2}, []float64{1, 2, 3, 4}), [3]int{1, 1, 2}, []int{0, 1}, [][]float32{{1, 2}, {3, 4}}},
		{"f8.npy", npyBytes("<f8", []int{3}, []float64{1.5, 2.5, 3.5}), [3]int{1, 1, 1}, []int{0, 1, 2}, [][]float32{{1.5}, {2.5}, {3.5}}},
		{"img.npy", npyBytes("|u1", []int{1, 1, 2, 1}, []float64{0, 255}), [3]int{1, 2, 1}, []int{0}, [][]float32{{0, 1}}},
		{"train-images-idx3-ubyte", idx.Bytes(), [3]int{1, 1, 2}, []int{0, 1}, [][]float32{{0, 1}, {0.2, 0.4}}},
		{"train-images-idx3-ubyte.gz", gz(t, idx.Bytes()), [3]int{1, 1, 2}, []int{0, 1}, [][]float32{{0, 1}, {0.2, 0.4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shape, pos, rows, err := readShard(t, tc.name, tc.data)
			require.NoError(t, err)
			assert.Equal(t, tc.shape, shape)
			assert.Equal(t, tc.pos, pos)
			assert.Equal(t, tc.rows, rows)
		})
	}
}

func TestOpenShardNamesShardAndRowOfBadData(t *testing.T) {
	good := npyBytes("<f4", []int{3, 2}, []float64{1, 2, 3, 4, 5, 6})
	var idx bytes.Buffer
	require.NoError(t, WriteIDX(&idx, []int{3, 2, 2}, make([]byte, 12)))
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"trunc.npy", "shard trunc.npy: row 2: truncated: 3 of 8 bytes", good[:len(good)-5]},
		{"long.npy", "shard long.npy: row 3: data continues past the 3 rows", append(slices.Clone(good), 0)},
		{"nan.npy", "shard nan.npy: row 1, value 0: NaN is not finite", npyBytes("<f8", []int{2, 1}, []float64{1, math.NaN()})},
		{"magic.npy", "shard magic.npy: not a .npy file", []byte("hello, world")},
		{"dtype.npy", `shard dtype.npy: .npy dtype "<i8" is not supported`, npyBytes("<i8", []int{0, 1}, nil)},
		{"wide.csv", "shard wide.csv: line 3: 2 fields, want 3", []byte("1,2,3\n4,5,6\n7,8\n")},
		{"nan.csv", `shard nan.csv: line 3, column 2: value "NaN" is not a finite float32`, []byte("a,b\n1,2\n3,NaN\n")},
		{"text.csv", `shard text.csv: line 2, column 1: cannot parse "x" as a number`, []byte("1,2\nx,3\n")},
		{"empty.csv", "shard empty.csv: empty CSV shard", nil},
		{"trunc-idx3-ubyte", "shard trunc-idx3-ubyte: row 2: truncated: 1 of 4 bytes", idx.Bytes()[:idx.Len()-3]},
		{"labels-idx3-ubyte", "1-dimensional IDX, want 3", []byte{0, 0, 8, 1, 0, 0, 0, 1, 9}},
		{"data.bin", `shard data.bin: unknown format ""`, []byte("1,2\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := readShard(t, tc.name, tc.data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// writeShards writes rows (each one value, its id) split into the given
// shard sizes, as CSV or .npy files part-000.<ext>…; it returns the ids.
func writeShards(t *testing.T, dir, ext string, sizes []int, dim int) []float32 {
	t.Helper()
	var ids []float32
	id := 0
	for s, n := range sizes {
		var data []float64
		var csv strings.Builder
		for range n {
			for j := range dim {
				v := float64(id*dim + j)
				data = append(data, v)
				if j > 0 {
					csv.WriteString(",")
				}
				fmt.Fprint(&csv, v)
			}
			csv.WriteString("\n")
			ids = append(ids, float32(id*dim))
			id++
		}
		b := []byte(csv.String())
		if ext == "npy" {
			b = npyBytes("<f4", []int{n, dim}, data)
		}
		writeFile(t, filepath.Join(dir, fmt.Sprintf("part-%03d.%s", s, ext)), b)
	}
	return ids
}

// epochFirsts returns the first value of every sample in one epoch.
func epochFirsts(t *testing.T, src BatchSource, epoch, skip int) []float32 {
	t.Helper()
	require.NoError(t, src.StartEpoch(epoch, skip))
	_, _, w := src.Shape()
	buf := make([]float32, src.BatchSize()*w)
	var out []float32
	for {
		err := src.Next(buf)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		for i := range src.BatchSize() {
			out = append(out, buf[i*w])
		}
	}
}

func TestStreamIsDeterministicAndVisitsEverySampleOnce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ext       string
		sizes     []int
		batch     int
		buffer    int
		noShuffle bool
	}{
		{"csv small buffer", "csv", []int{37, 20, 41, 5, 30}, 8, 16, false},
		{"npy small buffer", "npy", []int{37, 20, 41, 5, 30}, 8, 16, false},
		{"buffer larger than data", "csv", []int{10, 10}, 4, 1000, false},
		{"buffer of one", "npy", []int{6, 5, 7, 4, 9}, 3, 1, false},
		{"no shuffle", "csv", []int{7, 5}, 4, 16, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ids := writeShards(t, dir, tc.ext, tc.sizes, 3)
			open := func(seed uint64) *Stream {
				s, err := OpenStream(dir, StreamOptions{BatchSize: tc.batch, Buffer: tc.buffer, Seed: seed, NoShuffle: tc.noShuffle})
				require.NoError(t, err)
				t.Cleanup(func() { _ = s.Close() })
				return s
			}
			a, b := open(7), open(7)
			assert.Equal(t, len(ids), a.Len())
			assert.Equal(t, len(ids)/tc.batch, a.NumBatches())
			e1 := epochFirsts(t, a, 1, 0)
			assert.Equal(t, e1, epochFirsts(t, b, 1, 0), "same seed, same epoch: same order")
			require.Len(t, e1, a.NumBatches()*tc.batch)
			seen := map[float32]bool{}
			for _, v := range e1 {
				assert.False(t, seen[v], "sample %v handed out twice", v)
				assert.Contains(t, ids, v)
				seen[v] = true
			}
			// Resuming mid-epoch continues the same order.
			assert.Equal(t, e1[2*tc.batch:], epochFirsts(t, b, 1, 2))
			if tc.noShuffle {
				assert.Equal(t, ids[:len(e1)], e1)
				return
			}
			assert.NotEqual(t, e1, epochFirsts(t, a, 2, 0), "epochs differ")
			assert.NotEqual(t, e1, epochFirsts(t, open(8), 1, 0), "seeds differ")
			assert.NotEqual(t, ids[:len(e1)], e1, "shuffled")
		})
	}
}

func TestStreamOrderDoesNotDependOnFormat(t *testing.T) {
	csvDir, npyDir := t.TempDir(), t.TempDir()
	sizes := []int{13, 29, 8}
	writeShards(t, csvDir, "csv", sizes, 2)
	writeShards(t, npyDir, "npy", sizes, 2)
	opt := StreamOptions{BatchSize: 5, Buffer: 7, Seed: 3}
	a, err := OpenStream(csvDir, opt)
	require.NoError(t, err)
	b, err := OpenStream(filepath.Join(npyDir, "part-*.npy"), opt)
	require.NoError(t, err)
	assert.Equal(t, epochFirsts(t, a, 4, 0), epochFirsts(t, b, 4, 0))
}

func TestOpenStreamRejectsBadShards(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		batch int
		want  string
	}{
		{"wrong width", map[string]string{"a.csv": "1,2\n3,4\n", "b.csv": "1,2\n3,4,5\n"}, 1, "b.csv: line 2: 3 fields, want 2"},
		{"width differs between shards", map[string]string{"a.csv": "1,2\n", "b.csv": "1,2,3\n"}, 1, "b.csv: line 1: 3 values per sample (1×1×3) but the samples of"},
		{"NaN", map[string]string{"a.csv": "1\n2\n", "b.csv": "1\nnan\n"}, 1, "b.csv: line 2, column 1"},
		{"empty shard", map[string]string{"a.csv": "1\n", "b.csv": "x\n"}, 1, "b.csv: no samples"},
		{"batch too large", map[string]string{"a.csv": "1\n2\n"}, 3, "batch size 3 is larger than its 2 samples"},
		{"no shards", map[string]string{"notes.txt": "hi"}, 1, "holds no .csv, .npy or IDX files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, c := range tc.files {
				writeFile(t, filepath.Join(dir, n), []byte(c))
			}
			_, err := OpenStream(dir, StreamOptions{BatchSize: tc.batch})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	_, err := OpenStream(filepath.Join(t.TempDir(), "*.csv"), StreamOptions{BatchSize: 1})
	assert.ErrorContains(t, err, "no file matches")
}

func TestStreamReportsShardTruncatedAfterOpening(t *testing.T) {
	dir := t.TempDir()
	writeShards(t, dir, "npy", []int{4, 4}, 2)
	s, err := OpenStream(dir, StreamOptions{BatchSize: 2, Buffer: 2, NoShuffle: true})
	require.NoError(t, err)
	defer s.Close()
	p := filepath.Join(dir, "part-001.npy")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	writeFile(t, p, b[:len(b)-4])
	require.NoError(t, s.StartEpoch(1, 0))
	buf := make([]float32, 4)
	for range 3 {
		require.NoError(t, s.Next(buf))
	}
	assert.ErrorContains(t, s.Next(buf), "part-001.npy: row 3: truncated")
}

func TestMemorySourceGivesBatchersBatches(t *testing.T) {
	d := toy(23, 2, false)
	src, err := NewMemorySource(d, 5, 9)
	require.NoError(t, err)
	b, err := NewBatcher(d, 5, true, 9)
	require.NoError(t, err)
	assert.Equal(t, 4, src.NumBatches())
	require.NoError(t, src.StartEpoch(3, 1))
	b.SetEpoch(3)
	want, got := make([]float32, 10), make([]float32, 10)
	for i := 1; i < 4; i++ {
		b.Batch(i, want, nil)
		require.NoError(t, src.Next(got))
		assert.Equal(t, want, got, "batch %d", i)
	}
	assert.ErrorIs(t, src.Next(got), io.EOF)
	_, err = NewMemorySource(d, 24, 1)
	assert.ErrorContains(t, err, "batch size 24 is larger than its 23 samples")
}

func FuzzOpenShard(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n3,4\n"), uint8(0))
	f.Add(npyBytes("<f4", []int{2, 2}, []float64{1, 2, 3, 4}), uint8(1))
	var idx bytes.Buffer
	require.NoError(f, WriteIDX(&idx, []int{2, 1, 2}, []byte{0, 255, 51, 102}))
	f.Add(idx.Bytes(), uint8(2))
	formats := []string{FormatCSV, FormatNPY, FormatIDX}
	f.Fuzz(func(t *testing.T, b []byte, format uint8) {
		r, err := OpenShard(bytes.NewReader(b), "fuzz", formats[int(format)%len(formats)])
		if err != nil {
			return
		}
		defer r.Close()
		require.LessOrEqual(t, r.Dim(), maxSampleValues)
		row := make([]float32, r.Dim())
		for range 1 << 12 { // gzip can hold many rows in few bytes
			if _, err := r.Next(row); err != nil {
				return
			}
			for _, v := range row {
				require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "rows hold finite values only")
			}
		}
	})
}

func TestFitScalerStreamEqualsFitScalerOnTheWholeData(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.csv"), []byte("x,y\n1,-2\n3,5\n"))
	writeFile(t, filepath.Join(dir, "b.csv"), []byte("x,y\n0.5,7\n9,7\n-4,7\n"))
	s, err := OpenStream(dir, StreamOptions{BatchSize: 1})
	require.NoError(t, err)
	whole := &Dataset{Name: "whole", N: 5, C: 1, H: 1, W: 2, X: []float32{1, -2, 3, 5, 0.5, 7, 9, 7, -4, 7}}
	var seen []float32
	require.NoError(t, s.Each(func(x []float32) error { seen = append(seen, x...); return nil }))
	assert.Equal(t, whole.X, seen, "Each visits shards in name order, rows in file order")
	for _, kind := range []string{"minmax", "standard", "none"} {
		t.Run(kind, func(t *testing.T) {
			want, err := FitScaler(kind, whole)
			require.NoError(t, err)
			got, err := FitScalerStream(kind, s)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
	_, err = FitScalerStream("robust", s)
	assert.ErrorContains(t, err, `unknown kind "robust"`)
}
