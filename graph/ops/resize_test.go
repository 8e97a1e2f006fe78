package ops

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// The exact-doubling path against the index-table resample it replaces,
// forward and adjoint, bit for bit, including 1-pixel-wide planes.
func TestDouble2xMatchesResample(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, tc := range []struct{ planes, h, w int }{{1, 1, 1}, {3, 7, 7}, {2, 14, 14}, {4, 3, 5}, {2, 1, 6}} {
		t.Run(fmt.Sprintf("%dx%dx%d", tc.planes, tc.h, tc.w), func(t *testing.T) {
			op := &upsampleOp{inH: tc.h, inW: tc.w, outH: 2 * tc.h, outW: 2 * tc.w}
			src := op.srcIndex()
			in, out := tc.h*tc.w, 4*tc.h*tc.w
			x, g := make([]float32, tc.planes*in), make([]float32, tc.planes*out)
			for i := range x {
				x[i] = r.Float32() - 0.5
			}
			for i := range g {
				g[i] = r.Float32() - 0.5
			}
			want, got := make([]float32, tc.planes*out), make([]float32, tc.planes*out)
			resample(want, x, tc.planes, src, in, out, false)
			double2x(got, x, tc.planes, tc.h, tc.w, false)
			require.Equal(t, want, got, "forward")
			require.Equal(t, x[0], got[0]) // the top-left value, copied

			wantA, gotA := make([]float32, tc.planes*in), make([]float32, tc.planes*in)
			for i := range gotA {
				gotA[i] = 99 // overwritten, not added to
			}
			resample(wantA, g, tc.planes, src, in, out, true)
			double2x(gotA, g, tc.planes, tc.h, tc.w, true)
			require.Equal(t, wantA, gotA, "adjoint")
			require.Equal(t, g[0]+g[1]+g[2*tc.w]+g[2*tc.w+1], gotA[0])
		})
	}
}
