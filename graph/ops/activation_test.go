package ops

import (
	"math"
	"math/rand"
	"testing"
)

func randSlice(r *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = scale * (2*r.Float32() - 1)
	}
	return s
}

func TestActGradFlushesSubnormals(t *testing.T) {
	for _, act := range []Activation{Sigmoid, Tanh} {
		n := 37 // exercises the vector body and the scalar tail
		y, gy, dz := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range y {
			y[i] = 1e-30 // a saturated sigmoid output
			gy[i] = 1e-12
		}
		y[3], gy[3] = 0.5, 0.25 // an ordinary value survives
		actGrad(act, y, gy, dz)
		for i, v := range dz {
			if i == 3 {
				continue
			}
			if v != 0 && math.Abs(float64(v)) < 1.17549435e-38 {
				t.Fatalf("%s: dz[%d] = %g is subnormal", act, i, v)
			}
		}
		if dz[3] == 0 {
			t.Fatalf("%s: a normal gradient was flushed", act)
		}
	}
}
