package dataset

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadShardLoadsEveryRow(t *testing.T) {
	for _, ext := range []string{"csv", "npy"} {
		t.Run(ext, func(t *testing.T) {
			dir := t.TempDir()
			writeShards(t, dir, ext, []int{3}, 2)
			d, err := ReadShard(filepath.Join(dir, "part-000."+ext), "")
			require.NoError(t, err)
			assert.Equal(t, []float32{0, 1, 2, 3, 4, 5}, d.X)
			assert.Equal(t, [4]int{3, 1, 1, 2}, [4]int{d.N, d.C, d.H, d.W})
		})
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bad.csv"), []byte("1,2\n3\n"))
	_, err := ReadShard(filepath.Join(dir, "bad.csv"), "")
	assert.ErrorContains(t, err, "bad.csv: line 2: 1 fields, want 2")
}

func TestSampleStreamDrawsDistinctRowsDeterministically(t *testing.T) {
	dir := t.TempDir()
	ids := writeShards(t, dir, "npy", []int{40, 25, 35}, 2)
	s, err := OpenStream(dir, StreamOptions{BatchSize: 1, Buffer: 7})
	require.NoError(t, err)
	defer s.Close()
	firsts := func(d *Dataset) []float32 {
		var out []float32
		for i := range d.N {
			out = append(out, d.Sample(i)[0])
		}
		return out
	}
	all, err := SampleStream(s, 500, 1)
	require.NoError(t, err)
	assert.Equal(t, ids, firsts(all), "n ≥ Len keeps every row in shard order")

	a, err := SampleStream(s, 30, 1)
	require.NoError(t, err)
	b, err := SampleStream(s, 30, 1)
	require.NoError(t, err)
	c, err := SampleStream(s, 30, 2)
	require.NoError(t, err)
	assert.Equal(t, a.X, b.X)
	assert.NotEqual(t, a.X, c.X)
	got := firsts(a)
	for i, v := range got {
		assert.Contains(t, ids, v)
		assert.Equal(t, v+1, a.Sample(i)[1], "rows are copied whole")
	}
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	assert.Len(t, slices.Compact(sorted), 30, "no row drawn twice")
	assert.Greater(t, sorted[29], ids[65], "rows come from the last shard too")
}

func TestScaledScalesEveryBatch(t *testing.T) {
	dir := t.TempDir()
	writeShards(t, dir, "csv", []int{4, 4}, 2)
	s, err := OpenStream(dir, StreamOptions{BatchSize: 2, Buffer: 3, Seed: 4})
	require.NoError(t, err)
	defer s.Close()
	sc := &Scaler{Kind: "minmax", A: []float32{0, 1}, B: []float32{0.5, 0.25}}
	raw, scaled := make([]float32, 4), make([]float32, 4)
	src := Scaled(s, sc)
	for e := 1; e <= 2; e++ {
		require.NoError(t, s.StartEpoch(e, 1))
		require.NoError(t, s.Next(raw))
		require.NoError(t, src.StartEpoch(e, 1))
		require.NoError(t, src.Next(scaled))
		assert.Equal(t, []float32{raw[0] * 0.5, (raw[1] - 1) * 0.25, raw[2] * 0.5, (raw[3] - 1) * 0.25}, scaled)
	}
}
