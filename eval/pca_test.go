package eval

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linePoints returns n points mean + t*axis in 3-D with t spread over [-5,5].
func linePoints(n int, mean, axis [3]float64) []float32 {
	x := make([]float32, 0, 3*n)
	for i := range n {
		t := -5 + 10*float64(i)/float64(n-1)
		for j := range 3 {
			x = append(x, float32(mean[j]+t*axis[j]))
		}
	}
	return x
}

func TestFitPCALineIn3D(t *testing.T) {
	s := 1 / math.Sqrt(14)
	axis := [3]float64{1 * s, 2 * s, -3 * s}
	mean := [3]float64{0.5, -1, 2}
	const n = 50
	x := linePoints(n, mean, axis)

	p, err := FitPCA(x, n, 3, 1)
	require.NoError(t, err)
	assert.Equal(t, 1, p.K)
	assert.Equal(t, 3, p.D)
	for j := range 3 {
		assert.InDelta(t, mean[j], p.Mean[j], 1e-6)
	}
	// Recovered axis is parallel to the true one: |cos| = 1.
	dot := 0.0
	for j := range 3 {
		dot += p.Components.At(0, j) * axis[j]
	}
	assert.InDelta(t, 1, math.Abs(dot), 1e-9)

	// One component reconstructs points on a line exactly.
	rec := p.Reconstruct(x, n)
	require.Len(t, rec, n*3)
	for i := range x {
		assert.InDelta(t, x[i], rec[i], 1e-5, "value %d", i)
	}
	// Variance of t uniformly spaced on [-5,5]: sum(t^2)/(n-1).
	want := 0.0
	for i := range n {
		tt := -5 + 10*float64(i)/float64(n-1)
		want += tt * tt
	}
	want /= n - 1
	assert.InDelta(t, want, p.ExplainedVariance[0], 1e-4)
	assert.InDelta(t, 1, p.ExplainedVarianceRatio()[0], 1e-6)
}

func TestFitPCAAxesAndVarianceOrder(t *testing.T) {
	// Independent Gaussian features with standard deviations 5, 1, 3, 0.2:
	// the principal axes are the coordinate axes in order 0, 2, 1, 3.
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 20000, 4
	sd := []float64{5, 1, 3, 0.2}
	x := make([]float32, n*d)
	for i := range n {
		for j := range d {
			x[i*d+j] = float32(rng.NormFloat64()*sd[j] + float64(j))
		}
	}
	p, err := FitPCA(x, n, d, 4)
	require.NoError(t, err)
	for i := 1; i < p.K; i++ {
		assert.GreaterOrEqual(t, p.ExplainedVariance[i-1], p.ExplainedVariance[i], "explained variance must be sorted descending")
	}
	wantAxis := []int{0, 2, 1, 3}
	for i, a := range wantAxis {
		assert.InDelta(t, 1, math.Abs(p.Components.At(i, a)), 1e-2, "component %d should be axis %d", i, a)
		assert.InDelta(t, sd[a]*sd[a], p.ExplainedVariance[i], 0.05*sd[a]*sd[a], "variance of component %d", i)
	}
	// Components are orthonormal.
	for i := range d {
		for j := range d {
			dot := 0.0
			for c := range d {
				dot += p.Components.At(i, c) * p.Components.At(j, c)
			}
			want := 0.0
			if i == j {
				want = 1
			}
			assert.InDelta(t, want, dot, 1e-9)
		}
	}
	// With all D components the reconstruction is the identity.
	rec := p.Reconstruct(x[:10*d], 10)
	for i := range rec {
		assert.InDelta(t, x[i], rec[i], 1e-4)
	}
}

func TestPCATransformInverseShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d, k = 5000, 7, 3 // n > pcaBlockRows exercises the blocked paths
	x := make([]float32, n*d)
	for i := range x {
		x[i] = rng.Float32()
	}
	p, err := FitPCA(x, n, d, k)
	require.NoError(t, err)
	r, c := p.Components.Dims()
	assert.Equal(t, []int{k, d}, []int{r, c})
	assert.Len(t, p.ExplainedVariance, k)

	z := p.Transform(x, n)
	require.Len(t, z, n*k)
	// Codes of the training data are centred: mean ≈ 0 per component.
	for j := range k {
		m := 0.0
		for i := range n {
			m += float64(z[i*k+j])
		}
		assert.InDelta(t, 0, m/n, 1e-4)
	}
	back := p.Inverse(z, n)
	assert.Len(t, back, n*d)
	// Projection is idempotent: reconstructing a reconstruction changes nothing.
	rec2 := p.Reconstruct(back, n)
	for i := range back {
		require.InDelta(t, back[i], rec2[i], 1e-5)
	}

	// Transform of a single hand-checked row: z = (x - mean)·Cᵀ.
	z0 := p.Transform(x[:d], 1)
	for j := range k {
		want := 0.0
		for c := range d {
			want += (float64(x[c]) - p.Mean[c]) * p.Components.At(j, c)
		}
		assert.InDelta(t, want, z0[j], 1e-5)
	}

	assert.Nil(t, p.Transform(x[:d], 2), "short input")
	assert.Nil(t, p.Inverse(z[:k], 2), "short codes")
	assert.Nil(t, p.Reconstruct(x[:d], 2), "short input")
	assert.Empty(t, p.Transform(nil, 0))
}

func TestFitPCAErrors(t *testing.T) {
	x := make([]float32, 4*3)
	tests := []struct {
		name       string
		x          []float32
		n, d, k    int
		errContain string
	}{
		{"k zero", x, 4, 3, 0, "k=0"},
		{"k negative", x, 4, 3, -1, "k=-1"},
		{"k above d", x, 4, 3, 4, "k=4"},
		{"k above n", x[:2*3], 2, 3, 3, "k=3"},
		{"length mismatch", x, 5, 3, 1, "want n*d"},
		{"no rows", nil, 0, 3, 1, "n=0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := FitPCA(tc.x, tc.n, tc.d, tc.k)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tc.errContain)
		})
	}
}

// readIDXImagesForTest parses an IDX3 gz file of uint8 images into [0,1]
// float32 rows, reading at most limit images (limit <= 0: all).
func readIDXImagesForTest(path string, limit int) ([]float32, int, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, 0, 0, err
	}
	r := bufio.NewReader(gz)
	var hdr [4]uint32
	if err := binary.Read(r, binary.BigEndian, &hdr); err != nil {
		return nil, 0, 0, err
	}
	if hdr[0] != 0x803 {
		return nil, 0, 0, fmt.Errorf("%s: bad magic %#x", path, hdr[0])
	}
	n, d := int(hdr[1]), int(hdr[2]*hdr[3])
	if limit > 0 && limit < n {
		n = limit
	}
	raw := make([]byte, n*d)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, 0, 0, err
	}
	x := make([]float32, n*d)
	for i, b := range raw {
		x[i] = float32(b) / 255
	}
	return x, n, d, nil
}

const fashionDir = "/usr/share/datasets/fashion-mnist"

// TestPCAFashionMNIST is the real-data check of the PCA baseline (about 2 s
// on 2 cores, skipped with -short).
func TestPCAFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: reads and fits Fashion-MNIST")
	}
	train, n, d, err := readIDXImagesForTest(fashionDir+"/train-images-idx3-ubyte.gz", 10000)
	if os.IsNotExist(err) {
		t.Skip("Fashion-MNIST not found in " + fashionDir)
	}
	require.NoError(t, err)
	test, nt, _, err := readIDXImagesForTest(fashionDir+"/t10k-images-idx3-ubyte.gz", 0)
	require.NoError(t, err)

	start := time.Now()
	p, err := FitPCA(train, n, d, 32)
	require.NoError(t, err)
	fit := time.Since(start)
	rec := p.Reconstruct(test, nt)
	mse := 0.0
	for i := range rec {
		e := float64(rec[i] - test[i])
		mse += e * e
	}
	mse /= float64(len(rec))
	ratio := 0.0
	for _, r := range p.ExplainedVarianceRatio() {
		ratio += r
	}
	t.Logf("PCA-32 fit on %d×%d in %v; test MSE over %d images = %.5f; explained variance ratio = %.4f", n, d, fit, nt, mse, ratio)
	assert.InDelta(t, 0.015, mse, 0.005)

	if os.Getenv("HOURGLASS_PCA_GRID") != "" {
		out := os.Getenv("HOURGLASS_PCA_GRID")
		require.NoError(t, SaveReconstructionGrid(out, test[:20*d], rec[:20*d], 20, 1, 28, 28))
	}
}

// BenchmarkFitPCAFashionMNIST measures the full 60000×784 fit.
func BenchmarkFitPCAFashionMNIST(b *testing.B) {
	train, n, d, err := readIDXImagesForTest(fashionDir+"/train-images-idx3-ubyte.gz", 0)
	if err != nil {
		b.Skip(err)
	}
	for b.Loop() {
		if _, err := FitPCA(train, n, d, 32); err != nil {
			b.Fatal(err)
		}
	}
}
