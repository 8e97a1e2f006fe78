package dataset

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tab(x ...float32) *Dataset {
	return &Dataset{Name: "tab", X: x, N: len(x) / 3, C: 1, H: 1, W: 3}
}

func TestFitScalerHandComputed(t *testing.T) {
	// Features: (1,3,5) -> range 4, mean 3, std sqrt(8/3); (2,2,2) constant;
	// (0,10,-10) -> range 20, mean 0, std sqrt(200/3).
	d := tab(1, 2, 0, 3, 2, 10, 5, 2, -10)
	mm, err := FitScaler("minmax", d)
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, -10}, mm.A)
	assert.InDeltaSlice(t, []float32{0.25, 1, 0.05}, mm.B, 1e-7)

	st, err := FitScaler("standard", d)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float32{3, 2, 0}, st.A, 1e-6)
	assert.InDeltaSlice(t, []float32{0.6123724, 1, 0.12247449}, st.B, 1e-6)

	c := tab(1, 2, 0, 3, 2, 10, 5, 2, -10)
	require.NoError(t, mm.Apply(c))
	assert.InDeltaSlice(t, []float32{0, 0, 0.5, 0.5, 0, 1, 1, 0, 0}, c.X, 1e-6)

	c = tab(1, 2, 0, 3, 2, 10, 5, 2, -10)
	require.NoError(t, st.Apply(c))
	var mean, sq float64
	for i := range 3 {
		v := float64(c.X[i*3+2])
		mean += v / 3
		sq += v * v / 3
	}
	assert.InDelta(t, 0, mean, 1e-6)
	assert.InDelta(t, 1, sq, 1e-6)
}

func TestScalerRoundTrip(t *testing.T) {
	s, err := Load("sample")
	require.NoError(t, err)
	train := s.Train.Head(500)
	for _, kind := range ScalerKinds() {
		t.Run(kind, func(t *testing.T) {
			sc, err := FitScaler(kind, train)
			require.NoError(t, err)

			// JSON round trip, as a checkpoint stores it.
			raw, err := json.Marshal(sc)
			require.NoError(t, err)
			assert.Contains(t, string(raw), `"kind":"`+kind+`"`)
			var back Scaler
			require.NoError(t, json.Unmarshal(raw, &back))
			require.NoError(t, back.Validate())
			assert.Equal(t, sc.Kind, back.Kind)
			assert.Equal(t, len(sc.A), len(back.A))
			assert.Equal(t, sc.A, back.A)
			assert.Equal(t, sc.B, back.B)

			// Apply then Invert restores the data.
			test := s.Test.Head(50)
			orig := append([]float32(nil), test.X...)
			require.NoError(t, back.Apply(test))
			if kind == "none" || kind == "global" { // pixels already span [0,1]
				assert.Equal(t, orig, test.X)
			} else {
				assert.NotEqual(t, orig, test.X)
			}
			require.NoError(t, back.Invert(test))
			assert.InDeltaSlice(t, orig, test.X, 1e-4)
		})
	}
}

func TestScalerErrors(t *testing.T) {
	d := tab(1, 2, 3, 4, 5, 6)
	_, err := FitScaler("zscore", d)
	assert.ErrorContains(t, err, `unknown kind "zscore"`)
	_, err = FitScaler("minmax", &Dataset{Name: "e", C: 1, H: 1, W: 3})
	assert.ErrorContains(t, err, "empty dataset")

	sc, err := FitScaler("minmax", d)
	require.NoError(t, err)
	other := &Dataset{Name: "wide", X: make([]float32, 4), N: 1, C: 1, H: 1, W: 4}
	assert.ErrorContains(t, sc.Apply(other), `scaler minmax has 3 features but dataset "wide" has 4`)
	assert.ErrorContains(t, sc.Invert(other), "has 3 features")
	assert.ErrorContains(t, sc.ApplySlice(make([]float32, 4)), "not a multiple of its 3 features")

	for _, bad := range []Scaler{
		{Kind: "minmax", A: []float32{1}, B: []float32{1, 2}},
		{Kind: "standard", A: []float32{1}, B: []float32{0}},
		{Kind: "none", A: []float32{1}, B: []float32{1}},
		{Kind: "what"},
	} {
		assert.Error(t, bad.Validate(), "%+v", bad)
		assert.Error(t, bad.Apply(tab(1, 2, 3)))
	}
}

func TestFitScalerRobustGlobalNearConstant(t *testing.T) {
	// Columns: (1,2,3,4,100) median 3, IQR 4-2=2; (0,0,0,0,8) IQR 0, so
	// 1.349·sd with sd = sqrt(mean of squares - mean²) = sqrt(12.8-2.56) = 3.2;
	// (5, 5.000001, 5, 5, 5) near-constant: B=1.
	d := &Dataset{Name: "r", N: 5, C: 1, H: 1, W: 3, X: []float32{
		1, 0, 5,
		2, 0, 5.000001,
		3, 0, 5,
		4, 0, 5,
		100, 8, 5,
	}}
	rb, err := FitScaler("robust", d)
	require.NoError(t, err)
	assert.InDeltaSlice(t, []float32{3, 0, 5}, rb.A, 1e-6)
	assert.InDeltaSlice(t, []float32{0.5, float32(1 / (1.349 * 3.2)), 1}, rb.B, 1e-6)

	mm, err := FitScaler("minmax", d)
	require.NoError(t, err)
	assert.Equal(t, float32(1), mm.B[2], "a spread of 1e-6 on a value of 5 is treated as constant")
	st, err := FitScaler("standard", d)
	require.NoError(t, err)
	assert.Equal(t, float32(1), st.B[2])

	gl, err := FitScaler("global", d)
	require.NoError(t, err)
	assert.Equal(t, []float32{0, 0, 0}, gl.A)
	assert.InDeltaSlice(t, []float32{0.01, 0.01, 0.01}, gl.B, 1e-9)
	x := []float32{50, 4, 5}
	require.NoError(t, gl.ApplySlice(x))
	assert.InDeltaSlice(t, []float32{0.5, 0.04, 0.05}, x, 1e-6)
}

func TestScalerClip(t *testing.T) {
	d := tab(0, 0, 0, 10, 10, 10)
	sc, err := FitScaler("minmax", d)
	require.NoError(t, err)
	sc.Clip = 2
	x := []float32{-100, 5, 1000}
	require.NoError(t, sc.ApplySlice(x))
	assert.Equal(t, []float32{-2, 0.5, 2}, x)

	raw, err := json.Marshal(sc)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"clip":2`)
	sc.Clip = -1
	assert.ErrorContains(t, sc.Validate(), "clip -1")
}

func TestAutoScale(t *testing.T) {
	pixels := &Dataset{Name: "p", N: 1, C: 1, H: 2, W: 2, X: []float32{0, 0.5, 1, 0.2}}
	bytes := &Dataset{Name: "b", N: 1, C: 1, H: 2, W: 2, X: []float32{0, 128, 255, 3}}
	wide := &Dataset{Name: "w", N: 1, C: 1, H: 1, W: 64, X: make([]float32, 64)}
	wide.X[3] = 200
	table := &Dataset{Name: "t", N: 1, C: 1, H: 1, W: 3, X: []float32{-1, 2.5, 7}}
	for _, tc := range []struct {
		d    *Dataset
		want string
	}{{pixels, "none"}, {bytes, "global"}, {wide, "global"}, {table, "minmax"}} {
		kind, why := AutoScale(tc.d)
		assert.Equal(t, tc.want, kind, tc.d.Name)
		assert.NotEmpty(t, why)
	}
	assert.True(t, InUnitRange(pixels))
	assert.False(t, InUnitRange(table))
}
