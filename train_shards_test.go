package hourglass_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/dataset"
)

// writePlaneShards writes rows near a 2-d plane in 8 dimensions as CSV
// shards of per rows each, then one shard of off-plane rows, and returns
// the shard paths.
func writePlaneShards(t *testing.T, dir string, shards, per, off int) []string {
	rng := rand.New(rand.NewPCG(4, 2))
	const f = 8
	var a [f][2]float64
	for j := range f {
		a[j] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
	}
	head := "x0,x1,x2,x3,x4,x5,x6,x7\n"
	write := func(name string, n int, onPlane bool) string {
		var b strings.Builder
		b.WriteString(head)
		for range n {
			u, v := 2*rng.Float64()-1, 2*rng.Float64()-1
			for j := range f {
				x := a[j][0]*u + a[j][1]*v + 0.03*rng.NormFloat64()
				if !onPlane {
					x = 2 * (2*rng.Float64() - 1)
				}
				sep := ","
				if j == f-1 {
					sep = "\n"
				}
				fmt.Fprintf(&b, "%.5f%s", x, sep)
			}
		}
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
		return p
	}
	var paths []string
	for i := range shards {
		paths = append(paths, write(fmt.Sprintf("part-%d.csv", i), per, true))
	}
	return append(paths, write("off.csv", off, false))
}

// TrainShards trains through a buffer smaller than the data, the same
// seed giving the same model; the model tells off-plane rows apart and
// carries a threshold fitted on a sample of the training rows.
func TestTrainShards(t *testing.T) {
	dir := t.TempDir()
	shardDir := filepath.Join(dir, "train")
	require.NoError(t, os.Mkdir(shardDir, 0o755))
	paths := writePlaneShards(t, shardDir, 4, 500, 0)
	require.NoError(t, os.Remove(paths[len(paths)-1])) // no off-plane rows in training
	evalPaths := writePlaneShards(t, dir, 1, 300, 100)
	val, err := dataset.ReadShard(evalPaths[0], "")
	require.NoError(t, err)
	off, err := dataset.ReadShard(evalPaths[1], "")
	require.NoError(t, err)

	cfg := hourglass.Config{Latent: 2, Epochs: 15, Batch: 32, LR: 3e-3, Buffer: 300, Seed: 3}
	m1, h1, err := hourglass.TrainShards(context.Background(), shardDir, val, cfg)
	require.NoError(t, err)
	m2, _, err := hourglass.TrainShards(context.Background(), filepath.Join(shardDir, "part-*.csv"), val, cfg)
	require.NoError(t, err)
	require.Len(t, h1.Epochs, 15)
	assert.Less(t, h1.Epochs[14].ValLoss, h1.Epochs[0].ValLoss, "validation loss falls")

	in1, err := m1.Score(val.X)
	require.NoError(t, err)
	in2, err := m2.Score(val.X)
	require.NoError(t, err)
	assert.Equal(t, in1, in2, "the same seed gives the same model, directory or glob")
	out, err := m1.Score(off.X)
	require.NoError(t, err)
	mean := func(s []float64) (m float64) {
		for _, v := range s {
			m += v
		}
		return m / float64(len(s))
	}
	assert.Greater(t, mean(out), 5*mean(in1), "off-plane rows score far higher")

	thr, ok := m1.Threshold()
	require.True(t, ok)
	assert.Equal(t, 99.0, thr.Percentile)
	assert.Equal(t, 2000, thr.N, "every training row fits in the 10,000-row sample")
	flags, err := m1.Predict(off.X)
	require.NoError(t, err)
	flagged := 0
	for _, f := range flags {
		if f {
			flagged++
		}
	}
	assert.Greater(t, flagged, 50, "most off-plane rows are flagged")

	// A shard one value short on its third line: named, with the line, before training.
	bad := filepath.Join(shardDir, "part-9.csv")
	require.NoError(t, os.WriteFile(bad, []byte("x0,x1,x2,x3,x4,x5,x6,x7\n1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7\n"), 0o644))
	_, _, err = hourglass.TrainShards(context.Background(), shardDir, val, cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "part-9.csv")
	assert.Contains(t, err.Error(), "line 3")

	_, _, err = hourglass.TrainShards(context.Background(), shardDir, nil, cfg)
	assert.ErrorContains(t, err, "no validation data")
}
