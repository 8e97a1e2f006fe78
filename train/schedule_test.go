package train

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSchedulesByHand(t *testing.T) {
	type at struct {
		epoch, step int
		want        float64
	}
	cosMid := 0.1 + 0.9*(1+math.Cos(math.Pi/2))/2 // 0.55
	for _, tc := range []struct {
		cfg   ScheduleConfig
		total int
		pts   []at
	}{
		{ScheduleConfig{}, 100, []at{{1, 0, 1}, {7, 70, 1}}},
		{ScheduleConfig{Name: "step", StepEpochs: 2, Gamma: 0.5}, 100, []at{{1, 0, 1}, {2, 15, 1}, {3, 20, 0.5}, {4, 39, 0.5}, {5, 40, 0.25}}},
		{ScheduleConfig{Name: "exponential", Gamma: 0.5}, 100, []at{{1, 0, 1}, {2, 10, 0.5}, {3, 20, 0.25}}},
		{ScheduleConfig{Name: "cosine", MinLR: 0.1}, 10, []at{{1, 0, 1}, {1, 5, cosMid}, {2, 10, 0.1}}},
		{ScheduleConfig{Name: "cosine", MinLR: 0.1, Warmup: 2}, 12, []at{{1, 0, 0.5}, {1, 1, 1}, {1, 2, 1}, {1, 7, cosMid}, {2, 12, 0.1}}},
		{ScheduleConfig{Name: "constant", Warmup: 4}, 12, []at{{1, 0, 0.25}, {1, 3, 1}, {1, 4, 1}}},
	} {
		s, err := NewScheduler(tc.cfg, 1, tc.total)
		require.NoError(t, err)
		for _, p := range tc.pts {
			assert.InDelta(t, p.want, s.LR(p.epoch, p.step), 1e-12, "%+v at epoch %d step %d", tc.cfg, p.epoch, p.step)
		}
	}
}

func TestPlateauSchedule(t *testing.T) {
	s, err := NewScheduler(ScheduleConfig{Name: "plateau", Patience: 2, Factor: 0.5, MinLR: 0.3, MinDelta: 0.01}, 1, 0)
	require.NoError(t, err)
	for i, tc := range []struct {
		val, want float64
	}{
		{1.0, 1},     // first: best
		{0.995, 1},   // not better by more than 0.01: bad 1
		{0.999, 0.5}, // bad 2: halve
		{0.5, 0.5},   // improvement
		{0.6, 0.5},
		{0.6, 0.3}, // 0.25 floored at MinLR
	} {
		s.EndEpoch(tc.val)
		assert.InDelta(t, tc.want, s.LR(i+2, 0), 1e-12, "after epoch %d", i+1)
	}
	// The memory survives a checkpoint.
	r, err := NewScheduler(ScheduleConfig{Name: "plateau", Patience: 2, Factor: 0.5, MinLR: 0.3}, 1, 0)
	require.NoError(t, err)
	r.SetState(s.State())
	assert.Equal(t, s.LR(9, 0), r.LR(9, 0))
}

func TestScheduleErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  ScheduleConfig
		want string
	}{
		{ScheduleConfig{Name: "linear"}, `unknown schedule "linear" (valid: constant, step, exponential, cosine, plateau)`},
		{ScheduleConfig{Name: "step", Gamma: 2}, "gamma 2 must be in (0,1]"},
		{ScheduleConfig{Name: "plateau", Factor: 1}, "factor 1 must be in (0,1)"},
		{ScheduleConfig{Name: "cosine", Warmup: -1}, "warmup -1"},
		{ScheduleConfig{Name: "cosine", MinLR: -1}, "minimum learning rate -1"},
	} {
		_, err := NewScheduler(tc.cfg, 1, 10)
		assert.ErrorContains(t, err, tc.want)
	}
}
