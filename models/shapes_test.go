package models_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/models"
)

// TestParamShapesMatchNew: the shapes a spec implies are exactly the
// parameters New builds, in order, for every kind and odd input sizes.
func TestParamShapesMatchNew(t *testing.T) {
	shapes := [][]int{{1, 28, 28}, {3, 7, 5}, {2, 1, 9}, {1, 1, 1}}
	for _, kind := range models.Kinds() {
		for _, shape := range shapes {
			t.Run(fmt.Sprintf("%s %v", kind, shape), func(t *testing.T) {
				spec, err := models.DefaultSpec(kind, shape, 5)
				require.NoError(t, err)
				if len(spec.Hidden) > 0 {
					spec.Hidden = []int{11, 7, 6}
				}
				if len(spec.Channels) > 0 {
					spec.Channels = []int{4, 3, 2}
				}
				m, err := models.New(spec)
				require.NoError(t, err)
				got, err := models.ParamShapes(spec)
				require.NoError(t, err)
				params := m.Params().List()
				require.Len(t, got, len(params))
				total := 0
				for i, p := range params {
					assert.Equal(t, p.Name, got[i].Name)
					assert.Equal(t, p.Shape, got[i].Shape, p.Name)
					assert.Equal(t, p.Size(), got[i].Size(), p.Name)
					total += got[i].Size()
				}
				assert.Equal(t, m.Params().Count(), total)
			})
		}
	}
}

// TestSpecBounds: oversized specs fail fast, with the limit in the
// message, without allocating anything near the model's size.
func TestSpecBounds(t *testing.T) {
	base := func(kind string) models.Spec {
		s, err := models.DefaultSpec(kind, []int{1, 28, 28}, 0)
		require.NoError(t, err)
		return s
	}
	cases := []struct {
		name string
		edit func(*models.Spec)
		kind string
		want string
	}{
		{"huge input side", func(s *models.Spec) { s.InputShape = []int{1, 1000000, 1000000} }, "basic", "size 1000000 (H) is over the limit of 65536"},
		{"huge input product", func(s *models.Spec) { s.InputShape = []int{64, 4096, 4096} }, "conv", "1073741824 values per sample, over the limit of 16777216"},
		{"huge latent", func(s *models.Spec) { s.Latent = 1000000000 }, "basic", "latent size 1000000000 is over the limit of 1048576"},
		{"huge hidden", func(s *models.Spec) { s.Hidden = []int{100000, 100000} }, "deep", "over the limit of 200000000; use smaller sizes, or set HOURGLASS_MAX_PARAMS"},
		{"12000 hidden", func(s *models.Spec) { s.Hidden = []int{12000, 12000} }, "deep", "307632816 parameters (1.2 GB of float32 weights)"},
		{"hidden over width", func(s *models.Spec) { s.Hidden = []int{1 << 21} }, "vae", "hidden width 2097152 is over the limit of 1048576"},
		{"conv latent 100000", func(s *models.Spec) { s.Latent = 100000 }, "conv", "627340705 parameters (2.5 GB"},
		{"many channels", func(s *models.Spec) { s.Channels = []int{1 << 15} }, "conv", "channel count 32768 is over the limit of 16384"},
		{"many layers", func(s *models.Spec) { s.Hidden = make([]int, 65); s.Hidden[0] = 1 }, "deep", "at most 64"},
		{"vae without hidden", func(s *models.Spec) { s.Hidden = nil }, "vae", "needs at least one hidden layer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := base(tc.kind)
			tc.edit(&s)
			for i := range s.Hidden {
				if s.Hidden[i] == 0 {
					s.Hidden[i] = 1
				}
			}
			var err error
			alloc := allocated(func() { err = s.Validate() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
			assert.Less(t, alloc, uint64(1<<20))
			_, err = models.New(s)
			require.Error(t, err)
			_, err = models.ParseSpec(s.JSON())
			require.Error(t, err)
		})
	}
}

func TestMaxParamsOverride(t *testing.T) {
	s, err := models.DefaultSpec("deep", []int{1, 28, 28}, 0)
	require.NoError(t, err)
	s.Hidden = []int{12000, 12000}
	t.Setenv(models.EnvMaxParams, "400000000")
	require.NoError(t, s.Validate())
	t.Setenv(models.EnvMaxParams, "1000")
	err = s.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "over the limit of 1000;")
	t.Setenv(models.EnvMaxParams, "lots")
	err = s.Validate()
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), `HOURGLASS_MAX_PARAMS="lots": want a positive integer`), err.Error())
}

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
