package dataset

import (
	"fmt"
	"math/bits"

	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// The shuffle generator is written out here (splitmix64 plus Lemire's bounded
// integers) rather than taken from math/rand so batch orders stay identical
// across Go releases: a run resumed by a newer binary must see the same order.

const (
	golden    = 0x9e3779b97f4a7c15
	splitSalt = 0x5eed5eed5eed5eed // separates Split's shuffle from epoch orders
)

func splitmix64(x uint64) uint64 {
	x += golden
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// mix derives one stream state from (seed, epoch).
func mix(seed uint64, epoch int) uint64 {
	return splitmix64(seed ^ splitmix64(uint64(int64(epoch))))
}

type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += golden
	x := r.s
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// below returns a uniform integer in [0, n) without modulo bias (Lemire 2019).
func (r *rng) below(n uint64) uint64 {
	hi, lo := bits.Mul64(r.next(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.next(), n)
		}
	}
	return hi
}

// shuffleInto fills p with a permutation of 0..len(p)-1 drawn from state.
func shuffleInto(p []int, state uint64) {
	for i := range p {
		p[i] = i
	}
	r := rng{s: state}
	for i := len(p) - 1; i > 0; i-- {
		j := int(r.below(uint64(i + 1)))
		p[i], p[j] = p[j], p[i]
	}
}

func permutation(n int, state uint64) []int {
	p := make([]int, max(n, 0))
	shuffleInto(p, state)
	return p
}

// Permutation returns a permutation of 0..n-1 that depends only on (seed,
// epoch), so the order of any epoch can be recomputed without saved state.
func Permutation(n int, seed uint64, epoch int) []int {
	return permutation(n, mix(seed, epoch))
}

// Batcher cuts a dataset into batches of a fixed size, in identity order or
// in the Permutation order of the current epoch.
type Batcher struct {
	d       *Dataset
	bs      int
	shuffle bool
	seed    uint64
	epoch   int
	order   []int
}

// NewBatcher makes a batcher positioned at epoch 0.
func NewBatcher(d *Dataset, batchSize int, shuffle bool, seed uint64) (*Batcher, error) {
	if d == nil {
		return nil, fmt.Errorf("dataset: NewBatcher: nil dataset")
	}
	if batchSize <= 0 {
		return nil, fmt.Errorf("dataset %q: batch size %d must be positive", d.Name, batchSize)
	}
	if d.N < 0 || len(d.X) != d.N*d.Dim() || (d.Labels != nil && len(d.Labels) != d.N) {
		return nil, fmt.Errorf("dataset %q: inconsistent shape (N=%d, dim=%d, len(X)=%d, %d labels); run Validate for details", d.Name, d.N, d.Dim(), len(d.X), len(d.Labels))
	}
	b := &Batcher{d: d, bs: batchSize, shuffle: shuffle, seed: seed, order: make([]int, d.N)}
	b.SetEpoch(0)
	return b, nil
}

// BatchSize is the batch size the batcher was made with.
func (b *Batcher) BatchSize() int { return b.bs }

// Epoch is the epoch set last (0 initially).
func (b *Batcher) Epoch() int { return b.epoch }

// NumBatches is ceil(N/batch): every sample, the last batch possibly short.
func (b *Batcher) NumBatches() int { return (b.d.N + b.bs - 1) / b.bs }

// NumFullBatches is floor(N/batch): only batches with no padding.
func (b *Batcher) NumFullBatches() int { return b.d.N / b.bs }

// SetEpoch sets the sample order to Permutation(N, seed, epoch) when
// shuffling, identity otherwise. It reuses the order buffer.
func (b *Batcher) SetEpoch(epoch int) {
	b.epoch = epoch
	if b.shuffle {
		shuffleInto(b.order, mix(b.seed, epoch))
		return
	}
	for i := range b.order {
		b.order[i] = i
	}
}

// Indices returns the dataset indices in batch i (a view; do not modify), or
// nil when i is out of range.
func (b *Batcher) Indices(i int) []int {
	if i < 0 || i >= b.NumBatches() {
		return nil
	}
	lo := i * b.bs
	hi := min(lo+b.bs, b.d.N)
	return b.order[lo:hi:hi]
}

// Batch copies batch i into dst (len >= batchSize*Dim), zero-padding a short
// last batch, writes labels into labels if non-nil (len >= batchSize; padding
// and unlabelled samples get -1) and returns the number of real samples. It
// does not allocate for small batches; a large one is gathered on every core
// for the price of one small allocation. It returns 0 and copies nothing
// when i is out of range or a buffer is too small; BatchChecked says which.
func (b *Batcher) Batch(i int, dst []float32, labels []int) int {
	n, _ := b.BatchChecked(i, dst, labels)
	return n
}

// gather copies rows idx of x (rows of dim values) to dst in order.
func gather(dst, x []float32, idx []int, dim int) {
	for j, k := range idx {
		copy(dst[j*dim:(j+1)*dim], x[k*dim:(k+1)*dim])
	}
}

// BatchChecked is Batch with an error for a bad index or short buffer.
func (b *Batcher) BatchChecked(i int, dst []float32, labels []int) (int, error) {
	dim := b.d.Dim()
	if i < 0 || i >= b.NumBatches() {
		return 0, fmt.Errorf("dataset %q: batch %d out of range [0,%d)", b.d.Name, i, b.NumBatches())
	}
	if len(dst) < b.bs*dim {
		return 0, fmt.Errorf("dataset %q: batch buffer has %d values, want batchSize*dim = %d*%d = %d", b.d.Name, len(dst), b.bs, dim, b.bs*dim)
	}
	if labels != nil && len(labels) < b.bs {
		return 0, fmt.Errorf("dataset %q: label buffer has %d entries, want batch size %d", b.d.Name, len(labels), b.bs)
	}
	idx := b.Indices(i)
	x := b.d.X
	if n := len(idx) * dim; n < kernels.ParallelMinWork {
		gather(dst, x, idx, dim)
	} else {
		// A training batch's rows lie scattered over the whole set: gathering
		// them on every core shortens a pass the step otherwise waits for
		// alone. (Only this branch allocates: the closure.)
		kernels.ParallelFor(len(idx), n, func(lo, hi int) {
			gather(dst[lo*dim:], x, idx[lo:hi], dim)
		})
	}
	clear(dst[len(idx)*dim : b.bs*dim])
	if labels != nil {
		for j, k := range idx {
			if b.d.Labels != nil {
				labels[j] = b.d.Labels[k]
			} else {
				labels[j] = -1
			}
		}
		for j := len(idx); j < b.bs; j++ {
			labels[j] = -1
		}
	}
	return len(idx), nil
}
