package models_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/internal/gradcheck"
	"github.com/hourglass-ml/hourglass/models"
)

// tiny is a small instance of kind on 1×4×4 inputs, fast enough to check
// gradients coordinate by coordinate.
func tiny(t *testing.T, kind string) models.Model {
	t.Helper()
	spec, err := models.DefaultSpec(kind, []int{1, 4, 4}, 3)
	require.NoError(t, err)
	if len(spec.Hidden) > 0 {
		spec.Hidden = []int{8, 5}
	}
	spec.InitSeed = 11
	m, err := models.New(spec)
	require.NoError(t, err)
	return m
}

func batchOf(n, dim int) []float32 {
	x := make([]float32, n*dim)
	for i := range x {
		x[i] = float32((i*37)%101) / 100
	}
	return x
}

func TestObjectiveGradients(t *testing.T) {
	for _, kind := range models.Kinds() {
		t.Run(kind, func(t *testing.T) {
			m := tiny(t, kind)
			res, err := gradcheck.Check(m.Params(), func(g *G.ExprGraph) (*G.Node, func(), error) {
				obj, err := m.Objective(g, 4)
				if err != nil {
					return nil, nil, err
				}
				x := batchOf(4, 16)
				return obj.Loss, func() { obj.Feed(x, nil) }, nil
			}, 12, 1e-2, 5)
			require.NoError(t, err)
			assert.Less(t, res.RelErr, 0.03, "analytic %v\nnumeric  %v", res.Analytic, res.Numeric)
		})
	}
}

func TestSpecRoundTrip(t *testing.T) {
	for _, kind := range models.Kinds() {
		spec, err := models.DefaultSpec(kind, []int{1, 28, 28}, 0)
		require.NoError(t, err)
		back, err := models.ParseSpec(spec.JSON())
		require.NoError(t, err)
		assert.Equal(t, spec, back)
	}
}

func TestSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json, want string
	}{
		{"unknown kind", `{"kind":"gan","input_shape":[1,28,28],"latent":2}`, `unknown model kind "gan"`},
		{"bad shape", `{"kind":"deep","input_shape":[28,28],"latent":2}`, "must be C,H,W"},
		{"no latent", `{"kind":"deep","input_shape":[1,28,28],"latent":0}`, "latent size 0"},
		{"unknown field", `{"kind":"deep","input_shape":[1,28,28],"latent":2,"colour":1}`, "unknown field"},
		{"not json", `{`, "model spec"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := models.ParseSpec(tc.json)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, err := models.DefaultSpec("nosuch", []int{1, 28, 28}, 0)
	assert.ErrorContains(t, err, "valid: basic, deep")
}

func TestArchitectures(t *testing.T) {
	for _, tc := range []struct {
		kind   string
		shapes [][]int
	}{
		{"basic", [][]int{{784, 64}, {64}, {64, 784}, {784}}},
		{"deep", [][]int{{784, 128}, {128}, {128, 64}, {64}, {64, 32}, {32}, {32, 64}, {64}, {64, 128}, {128}, {128, 784}, {784}}},
	} {
		spec, err := models.DefaultSpec(tc.kind, []int{1, 28, 28}, 0)
		require.NoError(t, err)
		m, err := models.New(spec)
		require.NoError(t, err)
		var got [][]int
		for _, p := range m.Params().List() {
			got = append(got, p.Shape)
		}
		assert.Equal(t, tc.shapes, got, tc.kind)
	}
}

func TestInferenceShapes(t *testing.T) {
	m := tiny(t, "deep")
	n := 300 // more than one inference batch, with a short last batch
	x := batchOf(n, 16)
	z, err := models.Encode(m, x, n)
	require.NoError(t, err)
	assert.Len(t, z, n*3)
	y, err := models.Decode(m, z, n)
	require.NoError(t, err)
	r, err := models.Reconstruct(m, x, n)
	require.NoError(t, err)
	assert.Equal(t, y, r, "Reconstruct must equal Decode(Encode(x))")
	for _, v := range r {
		require.True(t, v > 0 && v < 1, "sigmoid output %v", v)
	}
	// A sample's output must not depend on which batch it was in.
	r1, err := models.Reconstruct(m, x[299*16:], 1)
	require.NoError(t, err)
	assert.InDeltaSlice(t, r[299*16:], r1, 1e-6)

	_, err = models.Encode(m, x[:10], 1)
	assert.ErrorContains(t, err, "want 1 samples")
}
