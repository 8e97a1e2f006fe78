package dataset

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// toy makes an N×1×1×dim dataset whose sample i holds i*10+j and label i%3.
func toy(n, dim int, labelled bool) *Dataset {
	d := &Dataset{Name: "toy", N: n, C: 1, H: 1, W: dim, X: make([]float32, n*dim)}
	for i := range n {
		for j := range dim {
			d.X[i*dim+j] = float32(i*10 + j)
		}
	}
	if labelled {
		d.Labels = make([]int, n)
		for i := range d.Labels {
			d.Labels[i] = i % 3
		}
	}
	return d
}

func isPerm(p []int) bool {
	s := slices.Clone(p)
	slices.Sort(s)
	for i, v := range s {
		if v != i {
			return false
		}
	}
	return true
}

func TestPermutation(t *testing.T) {
	a := Permutation(1000, 42, 3)
	assert.True(t, isPerm(a))
	assert.Equal(t, a, Permutation(1000, 42, 3), "same seed and epoch, same order")
	assert.NotEqual(t, a, Permutation(1000, 42, 4), "epochs differ")
	assert.NotEqual(t, a, Permutation(1000, 43, 3), "seeds differ")
	assert.NotEqual(t, Permutation(1000, 42, -1), Permutation(1000, 42, 1))
	// Pinned so a change to the generator (which would silently change the
	// order a resumed run sees) fails loudly.
	assert.Equal(t, []int{8, 1, 5, 3, 6, 0, 2, 9, 4, 7}, Permutation(10, 42, 0))
	assert.Equal(t, []int{3, 8, 9, 2, 4, 6, 7, 0, 5, 1}, Permutation(10, 42, 1))
	assert.Equal(t, []int{7, 1, 9, 0, 6, 8, 2, 4, 5, 3}, Permutation(10, 7, 0))
	assert.Empty(t, Permutation(0, 1, 0))
	assert.Empty(t, Permutation(-3, 1, 0))
	assert.Equal(t, []int{0}, Permutation(1, 1, 0))
}

func TestPermutationUniform(t *testing.T) {
	// Where element 0 lands over many epochs: each of 4 slots ~1/4.
	const trials = 20000
	var count [4]int
	for e := range trials {
		p := Permutation(4, 9, e)
		count[slices.Index(p, 0)]++
	}
	for slot, c := range count {
		assert.InDelta(t, trials/4, c, trials/4*0.06, "slot %d", slot)
	}
}

func TestBatcherPaddingAndLabels(t *testing.T) {
	d := toy(10, 3, true)
	b, err := NewBatcher(d, 4, false, 1)
	require.NoError(t, err)
	assert.Equal(t, 3, b.NumBatches())
	assert.Equal(t, 2, b.NumFullBatches())
	assert.Equal(t, 4, b.BatchSize())

	dst := make([]float32, 4*3)
	labels := make([]int, 4)
	for i := range dst {
		dst[i] = -9 // padding must overwrite stale values
	}
	n := b.Batch(2, dst, labels)
	assert.Equal(t, 2, n)
	assert.Equal(t, []float32{80, 81, 82, 90, 91, 92, 0, 0, 0, 0, 0, 0}, dst)
	assert.Equal(t, []int{2, 0, -1, -1}, labels)
	assert.Equal(t, []int{8, 9}, b.Indices(2))

	n = b.Batch(0, dst, nil)
	assert.Equal(t, 4, n)
	assert.Equal(t, []float32{0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32}, dst)
}

func TestBatcherUnlabelled(t *testing.T) {
	b, err := NewBatcher(toy(3, 1, false), 2, true, 5)
	require.NoError(t, err)
	labels := []int{7, 7}
	assert.Equal(t, 2, b.Batch(0, make([]float32, 2), labels))
	assert.Equal(t, []int{-1, -1}, labels)
}

func TestBatcherShuffleEpochs(t *testing.T) {
	d := toy(23, 2, true)
	b, err := NewBatcher(d, 5, true, 77)
	require.NoError(t, err)
	order := func() []int {
		var all []int
		for i := range b.NumBatches() {
			all = append(all, b.Indices(i)...)
		}
		return all
	}
	e0 := order()
	assert.Equal(t, Permutation(23, 77, 0), e0)
	b.SetEpoch(1)
	e1 := order()
	assert.Equal(t, Permutation(23, 77, 1), e1)
	assert.NotEqual(t, e0, e1)
	assert.True(t, isPerm(e1))
	b.SetEpoch(0)
	assert.Equal(t, e0, order(), "returning to an epoch reproduces its order")
	assert.Equal(t, 0, b.Epoch())

	// A fresh batcher (a resumed run) at epoch 1 sees the same batches.
	b2, err := NewBatcher(d, 5, true, 77)
	require.NoError(t, err)
	b2.SetEpoch(1)
	b.SetEpoch(1)
	x1, x2 := make([]float32, 10), make([]float32, 10)
	l1, l2 := make([]int, 5), make([]int, 5)
	for i := range b.NumBatches() {
		assert.Equal(t, b.Batch(i, x1, l1), b2.Batch(i, x2, l2))
		assert.Equal(t, x1, x2)
		assert.Equal(t, l1, l2)
		for j, k := range b.Indices(i) {
			assert.Equal(t, d.Sample(k), x1[j*2:j*2+2])
			assert.Equal(t, d.Labels[k], l1[j])
		}
	}
}

func TestBatcherErrors(t *testing.T) {
	d := toy(4, 2, true)
	for _, bs := range []int{0, -1} {
		_, err := NewBatcher(d, bs, false, 0)
		assert.ErrorContains(t, err, "batch size")
	}
	_, err := NewBatcher(nil, 2, false, 0)
	assert.Error(t, err)
	_, err = NewBatcher(&Dataset{Name: "bad", N: 3, C: 1, H: 1, W: 2, X: make([]float32, 5)}, 2, false, 0)
	assert.ErrorContains(t, err, "inconsistent shape")

	b, err := NewBatcher(d, 3, false, 0)
	require.NoError(t, err)
	dst := make([]float32, 6)
	for _, c := range []struct {
		i      int
		dst    []float32
		labels []int
		want   string
	}{
		{2, dst, nil, "batch 2 out of range [0,2)"},
		{-1, dst, nil, "batch -1 out of range"},
		{0, dst[:5], nil, "batch buffer has 5 values, want batchSize*dim = 3*2 = 6"},
		{0, dst, make([]int, 2), "label buffer has 2 entries, want batch size 3"},
	} {
		n, err := b.BatchChecked(c.i, c.dst, c.labels)
		assert.Equal(t, 0, n)
		assert.ErrorContains(t, err, c.want)
		assert.Equal(t, 0, b.Batch(c.i, c.dst, c.labels))
	}
	assert.Nil(t, b.Indices(5))
}

func TestBatchDoesNotAllocate(t *testing.T) {
	d := toy(100, 16, true)
	b, err := NewBatcher(d, 32, true, 1)
	require.NoError(t, err)
	dst := make([]float32, 32*16)
	labels := make([]int, 32)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range b.NumBatches() {
			b.Batch(i, dst, labels)
		}
	})
	assert.Zero(t, allocs)
	allocs = testing.AllocsPerRun(10, func() { b.SetEpoch(3) })
	assert.Zero(t, allocs, "SetEpoch reuses its buffer")
}

func BenchmarkBatch(b *testing.B) {
	s, err := Load("sample")
	require.NoError(b, err)
	bt, err := NewBatcher(s.Train, 128, true, 1)
	require.NoError(b, err)
	dst := make([]float32, 128*s.Train.Dim())
	labels := make([]int, 128)
	nb := bt.NumBatches()
	b.ReportAllocs()
	b.SetBytes(int64(len(dst) * 4))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		bt.Batch(i%nb, dst, labels)
	}
}
