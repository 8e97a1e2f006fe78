package eval

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKNNHandMade(t *testing.T) {
	// 1-D training points and labels.
	trainX := []float32{0, 1, 2, 10, 11}
	trainY := []int{0, 0, 1, 1, 1}
	cases := []struct {
		name string
		x    float32
		k    int
		want int
	}{
		{"k=1 nearest", 9, 1, 1},
		{"k=3 majority", 1.4, 3, 0},         // neighbours 1(0), 2(1), 0(0)
		{"k=2 tie nearest wins", 1.4, 2, 0}, // 1 (label 0) is nearer than 2 (label 1)
		{"k=2 tie other side", 1.6, 2, 1},   // 2 (label 1) is nearer
		{"k=5 all", 1.4, 5, 1},              // three 1s vs two 0s
		{"distance tie lower index", 0.5, 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			acc, err := KNNAccuracy(trainX, trainY, []float32{c.x}, []int{c.want}, 1, c.k)
			require.NoError(t, err)
			assert.Equal(t, 1.0, acc)
		})
	}
	// Exact distance tie between labels 5 and -7: lower training index wins.
	acc, err := KNNAccuracy([]float32{1, -1}, []int{5, -7}, []float32{0, 0}, []int{5, -7}, 1, 1)
	require.NoError(t, err)
	assert.Equal(t, 0.5, acc)

	// 2-D: accuracy is the fraction right.
	acc, err = KNNAccuracy(
		[]float32{0, 0, 0, 1, 5, 5, 5, 6}, []int{0, 0, 1, 1},
		[]float32{0.1, 0.2, 5.2, 5.1, 4, 4}, []int{0, 0, 0}, 2, 1)
	require.NoError(t, err)
	assert.InDelta(t, 1.0/3, acc, 1e-12)
}

// clusters draws n points per class around well-separated centres.
func clusters(rng *rand.Rand, centres [][]float32, n int, noise float32) ([]float32, []int) {
	var xs []float32
	var ys []int
	for i := range n * len(centres) {
		c := i % len(centres)
		for _, v := range centres[c] {
			xs = append(xs, v+noise*float32(rng.NormFloat64()))
		}
		ys = append(ys, c)
	}
	return xs, ys
}

func randomCentres(rng *rand.Rand, classes, dim int, scale float32) [][]float32 {
	cs := make([][]float32, classes)
	for c := range cs {
		cs[c] = make([]float32, dim)
		for j := range cs[c] {
			cs[c][j] = scale * float32(rng.NormFloat64())
		}
	}
	return cs
}

func TestKNNSeparableClusters(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	centres := randomCentres(rng, 10, 32, 10)
	trainX, trainY := clusters(rng, centres, 300, 0.5) // 3000 train: spans several train blocks
	testX, testY := clusters(rng, centres, 50, 0.5)    // 500 test: several test blocks
	for _, k := range []int{1, 5, 15} {
		acc, err := KNNAccuracy(trainX, trainY, testX, testY, 32, k)
		require.NoError(t, err)
		assert.Equal(t, 1.0, acc, "k=%d", k)
	}
}

// naiveKNN is a float64 brute-force reference with the same tie rules; it
// returns the accuracy for each k in ks.
func naiveKNN(trainX []float32, trainY []int, testX []float32, testY []int, dim int, ks []int) []float64 {
	correct := make([]int, len(ks))
	type nb struct {
		d   float64
		idx int
	}
	nbs := make([]nb, len(trainY))
	for i := range testY {
		for j := range trainY {
			var d float64
			for c := range dim {
				diff := float64(testX[i*dim+c]) - float64(trainX[j*dim+c])
				d += diff * diff
			}
			nbs[j] = nb{d, j}
		}
		sort.SliceStable(nbs, func(a, b int) bool { return nbs[a].d < nbs[b].d })
		for ki, k := range ks {
			counts := map[int]int{}
			for _, n := range nbs[:k] {
				counts[trainY[n.idx]]++
			}
			best, bc := 0, 0
			for _, n := range nbs[:k] {
				if c := counts[trainY[n.idx]]; c > bc {
					best, bc = trainY[n.idx], c
				}
			}
			if best == testY[i] {
				correct[ki]++
			}
		}
	}
	acc := make([]float64, len(ks))
	for ki := range ks {
		acc[ki] = float64(correct[ki]) / float64(len(testY))
	}
	return acc
}

func TestKNNMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	// Overlapping classes so accuracy is far from 1 and votes matter.
	centres := randomCentres(rng, 4, 16, 0.5)
	trainX, trainY := clusters(rng, centres, 600, 1) // 2400 train: crosses a train block
	testX, testY := clusters(rng, centres, 50, 1)    // 200 test: crosses a test block
	ks := []int{1, 2, 4, 7}
	want := naiveKNN(trainX, trainY, testX, testY, 16, ks)
	for ki, k := range ks {
		got, err := KNNAccuracy(trainX, trainY, testX, testY, 16, k)
		require.NoError(t, err)
		assert.InDelta(t, want[ki], got, 1.5/200, "k=%d: at most one float32 near-tie may differ", k)
		assert.Less(t, got, 0.95)
	}
}

func TestKNNErrors(t *testing.T) {
	x := []float32{0, 1, 2, 3}
	y := []int{0, 1}
	cases := map[string]struct {
		trainX []float32
		trainY []int
		testX  []float32
		testY  []int
		dim, k int
		want   string
	}{
		"dim":        {x, y, x, y, 0, 1, "dim must be positive"},
		"k":          {x, y, x, y, 2, 0, "k must be positive"},
		"k too big":  {x, y, x, y, 2, 3, "k=3 exceeds the 2 training samples"},
		"train size": {x[:3], y, x, y, 2, 1, "trainX has 3 values"},
		"test size":  {x, y, x, y[:1], 2, 1, "testX has 4 values"},
		"no test":    {x, y, nil, nil, 2, 1, "no test samples"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := KNNAccuracy(c.trainX, c.trainY, c.testX, c.testY, c.dim, c.k)
			require.ErrorContains(t, err, c.want)
		})
	}
}

// BenchmarkKNNAccuracy times the Fashion-MNIST-sized workload: 10k test
// against 60k train, k=5, in a latent (32) and pixel (784) space. Run with
// go test -run '^$' -bench KNN ./eval/.
func BenchmarkKNNAccuracy(b *testing.B) {
	for _, dim := range []int{32, 784} {
		b.Run(fmt.Sprintf("10kx60k_dim%d", dim), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, uint64(dim)))
			centres := randomCentres(rng, 10, dim, 1)
			trainX, trainY := clusters(rng, centres, 6000, 1)
			testX, testY := clusters(rng, centres, 1000, 1)
			b.ResetTimer()
			for b.Loop() {
				if _, err := KNNAccuracy(trainX, trainY, testX, testY, dim, 5); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
