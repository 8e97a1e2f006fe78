package train

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/models"
)

// TestDirectGradsMatchDualValues checks, for every kind, that the
// gradients read straight from their nodes equal those Gorgonia adds into
// the parameters' dual values, over two steps on different batches: the
// second step would show a register the machine reused, or a gradient that
// carries over from the first.
func TestDirectGradsMatchDualValues(t *testing.T) {
	splits, err := dataset.Load("sample")
	require.NoError(t, err)
	d := splits.Train
	const batch = 16
	for _, kind := range models.Kinds() {
		t.Run(kind, func(t *testing.T) {
			spec, err := models.DefaultSpec(kind, []int{d.C, d.H, d.W}, 0)
			require.NoError(t, err)
			m, err := models.New(spec)
			require.NoError(t, err)
			steps := func(direct bool) [][][]float32 {
				s, err := buildStepper(m, batch, device.CPU, direct)
				require.NoError(t, err)
				defer s.close()
				require.Equal(t, direct, !s.accumulates(), "direct=%v", direct)
				var out [][][]float32
				for step := range 2 {
					x := d.X[step*batch*d.Dim() : (step+1)*batch*d.Dim()]
					_, err := s.run(x, rand.New(rand.NewPCG(7, uint64(step))))
					require.NoError(t, err)
					grads, err := s.grads()
					require.NoError(t, err)
					cp := make([][]float32, len(grads))
					for i, g := range grads {
						cp[i] = append([]float32(nil), g...)
						if s.accumulates() {
							clear(g)
						}
					}
					out = append(out, cp)
				}
				return out
			}
			direct, dual := steps(true), steps(false)
			for step := range direct {
				require.Len(t, direct[step], len(dual[step]))
				nonzero := 0
				for i := range direct[step] {
					assert.Equal(t, dual[step][i], direct[step][i], "step %d, gradient of %s", step, m.Params().List()[i].Name)
					for _, v := range direct[step][i] {
						if v != 0 {
							nonzero++
						}
					}
				}
				assert.Positive(t, nonzero, "step %d: every gradient is zero", step)
			}
			assert.NotEqual(t, direct[0], direct[1], "two batches gave the same gradients")
		})
	}
}
