package dataset

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSampleIsView(t *testing.T) {
	d := toy(3, 2, true)
	s := d.Sample(1)
	assert.Equal(t, []float32{10, 11}, s)
	s[0] = 99
	assert.Equal(t, float32(99), d.X[2])
	assert.Equal(t, 2, cap(s), "append must not clobber the next sample")
	assert.Equal(t, 2, d.Dim())
}

func TestSubsetHeadFilter(t *testing.T) {
	d := toy(6, 2, true)
	d.Classes = []string{"a", "b", "c"}
	s := d.Subset([]int{4, 1, 4})
	assert.Equal(t, 3, s.N)
	assert.Equal(t, []float32{40, 41, 10, 11, 40, 41}, s.X)
	assert.Equal(t, []int{1, 1, 1}, s.Labels)
	assert.Equal(t, d.Classes, s.Classes)
	s.X[0] = -1
	assert.Equal(t, float32(40), d.X[8], "Subset copies")
	require.NoError(t, s.Validate())

	_, err := d.Select([]int{0, 6})
	assert.ErrorContains(t, err, "index 6 (position 1) out of range [0,6)")

	h := d.Head(2)
	assert.Equal(t, []float32{0, 1, 10, 11}, h.X)
	assert.Equal(t, 6, d.Head(100).N)
	assert.Equal(t, 0, d.Head(-1).N)
	require.NoError(t, d.Head(0).Validate())

	f := d.Filter(func(l int) bool { return l == 2 })
	assert.Equal(t, []int{2, 2}, f.Labels)
	assert.Equal(t, []float32{20, 21, 50, 51}, f.X)

	u := toy(3, 1, false)
	var got []int
	u.Filter(func(l int) bool { got = append(got, l); return true })
	assert.Equal(t, []int{-1, -1, -1}, got)
}

func TestSplit(t *testing.T) {
	d := toy(100, 1, false)
	tr, va, err := d.Split(0.2, 7)
	require.NoError(t, err)
	assert.Equal(t, 80, tr.N)
	assert.Equal(t, 20, va.N)
	assert.Equal(t, "toy/train", tr.Name)
	assert.Equal(t, "toy/val", va.Name)
	// Disjoint and covering: sample i holds 10*i.
	seen := map[float32]bool{}
	for _, v := range append(append([]float32{}, tr.X...), va.X...) {
		assert.False(t, seen[v])
		seen[v] = true
	}
	assert.Len(t, seen, 100)
	assert.IsIncreasing(t, va.X, "parts keep the original order")

	tr2, va2, err := d.Split(0.2, 7)
	require.NoError(t, err)
	assert.Equal(t, tr.X, tr2.X, "same seed, same split")
	assert.Equal(t, va.X, va2.X)
	_, va3, err := d.Split(0.2, 8)
	require.NoError(t, err)
	assert.NotEqual(t, va.X, va3.X, "different seed, different split")

	for _, frac := range []float64{0, 1, -0.1, 1.5, math.NaN()} {
		_, _, err := d.Split(frac, 1)
		assert.ErrorContains(t, err, "must be in (0,1)", "frac %v", frac)
	}
	_, _, err = toy(3, 1, false).Split(0.1, 1)
	assert.ErrorContains(t, err, "empty train or validation set")
}

func TestValidate(t *testing.T) {
	good := toy(3, 2, true)
	require.NoError(t, good.Validate())

	nan := toy(3, 2, true)
	nan.X[5] = float32(math.NaN())
	err := nan.Validate()
	assert.ErrorContains(t, err, `dataset "toy": sample 2, value 1: NaN is not finite`)

	inf := toy(3, 2, true)
	inf.X[0] = float32(math.Inf(-1))
	assert.ErrorContains(t, inf.Validate(), "sample 0, value 0: -Inf")

	cases := []struct {
		name string
		mod  func(d *Dataset)
		want string
	}{
		{"short X", func(d *Dataset) { d.X = d.X[:5] }, "len(X)=5, want N*C*H*W = 3*2 = 6"},
		{"labels len", func(d *Dataset) { d.Labels = d.Labels[:2] }, "2 labels for 3 samples"},
		{"zero C", func(d *Dataset) { d.C = 0 }, "bad shape"},
		{"negative label", func(d *Dataset) { d.Labels[1] = -2 }, "sample 1: negative label -2"},
		{"label vs classes", func(d *Dataset) { d.Classes = []string{"a", "b"} }, "sample 2: label 2 outside [0,2)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := toy(3, 2, true)
			c.mod(d)
			assert.ErrorContains(t, d.Validate(), c.want)
		})
	}
	var nilD *Dataset
	assert.Error(t, nilD.Validate())
}
