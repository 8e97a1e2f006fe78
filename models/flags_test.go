package models_test

import (
	"context"
	"flag"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

func specFrom(args ...string) (models.Spec, error) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := models.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return models.Spec{}, err
	}
	return f.Spec([]int{1, 28, 28}, 9)
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, s models.Spec)
	}{
		{"denoising default", []string{"-model", "denoising"}, func(t *testing.T, s models.Spec) {
			assert.Equal(t, &models.NoiseSpec{Kind: "gaussian", Std: 0.3}, s.Noise)
		}},
		{"mask", []string{"-model", "denoising", "-noise", "mask", "-noise-frac", "0.5"}, func(t *testing.T, s models.Spec) {
			assert.Equal(t, &models.NoiseSpec{Kind: "mask", Frac: 0.5}, s.Noise)
		}},
		{"sparse l1", []string{"-model", "sparse", "-sparsity-l1", "0.01"}, func(t *testing.T, s models.Spec) {
			assert.Equal(t, &models.SparsitySpec{L1: 0.01}, s.Sparsity)
		}},
		{"sparse kl", []string{"-model", "sparse", "-sparsity-rho", "0.05"}, func(t *testing.T, s models.Spec) {
			assert.Equal(t, &models.SparsitySpec{Rho: 0.05, Beta: models.DefaultSparsityBeta}, s.Sparsity)
		}},
		{"sparse no penalty", []string{"-model", "sparse", "-sparsity-l1", "0"}, func(t *testing.T, s models.Spec) {
			assert.Equal(t, &models.SparsitySpec{}, s.Sparsity)
		}},
		{"vae", []string{"-model", "vae", "-beta", "0.5", "-recon-loss", "mse", "-latent", "8"}, func(t *testing.T, s models.Spec) {
			assert.Equal(t, 0.5, s.Beta)
			assert.Equal(t, "mse", s.Loss)
			assert.Equal(t, 8, s.Latent)
			assert.Equal(t, uint64(9), s.InitSeed)
			assert.Equal(t, "torch", s.Init, "PyTorch's initialisation by default")
		}},
		{"init flag", []string{"-model", "vae", "-init", "he-glorot"}, func(t *testing.T, s models.Spec) {
			assert.Equal(t, "he-glorot", s.Init)
		}},
		{"convvae default", []string{"-model", "convvae"}, func(t *testing.T, s models.Spec) {
			assert.Equal(t, 1.0, s.Beta)
			assert.Equal(t, "bce", s.Loss)
			assert.Nil(t, s.Noise)
			assert.Equal(t, "he-glorot", s.Init)
		}},
		{"deep", []string{"-model", "deep"}, func(t *testing.T, s models.Spec) {
			assert.Nil(t, s.Noise)
			assert.Nil(t, s.Sparsity)
			assert.Zero(t, s.Beta)
			assert.Equal(t, "he-glorot", s.Init)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := specFrom(tc.args...)
			require.NoError(t, err)
			tc.check(t, s)
			_, err = models.New(s)
			require.NoError(t, err)
		})
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-model", "deep", "-noise", "mask"}, "-noise applies only to -model denoising, not deep"},
		{[]string{"-model", "conv", "-beta", "2"}, "-beta applies only to -model vae or convvae"},
		{[]string{"-model", "vae", "-sparsity-l1", "1"}, "-sparsity-l1 applies only to -model sparse"},
		{[]string{"-model", "denoising", "-noise", "pink"}, `unknown noise "pink"`},
		{[]string{"-model", "denoising", "-noise-std", "0"}, "standard deviation 0"},
		{[]string{"-model", "denoising", "-noise", "mask", "-noise-frac", "2"}, "fraction 2"},
		{[]string{"-model", "sparse", "-sparsity-rho", "1"}, "-sparsity-rho 1"},
		{[]string{"-model", "vae", "-beta", "-1"}, "-beta -1"},
		{[]string{"-recon-loss", "l2"}, `-recon-loss "l2"`},
		{[]string{"-init", "lecun"}, `-init: unknown initialisation "lecun"`},
		{[]string{"-model", "gan"}, "valid: basic, deep, denoising, sparse, conv, vae, convvae"},
	} {
		_, err := specFrom(tc.args...)
		assert.ErrorContains(t, err, tc.want, "%v", tc.args)
	}
}

func tableSpec(width int, unitRange bool, args ...string) (models.Spec, error) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := models.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return models.Spec{}, err
	}
	return f.SpecFor([]int{1, 1, width}, 1, unitRange)
}

func TestTabularShape(t *testing.T) {
	for _, tc := range []struct {
		kind                string
		width, rows, latent int
		hidden              []int
		code                int
	}{
		{"deep", 12, 378, 0, []int{32, 18}, 3},        // at least 32 wide
		{"deep", 30, 225, 0, []int{56, 32}, 8},        // twice the width, capped at a quarter of the rows
		{"deep", 30, 0, 0, []int{60, 34}, 8},          // rows unknown: twice the width
		{"deep", 13, 45, 0, []int{11, 8}, 4},          // a quarter of 45 rows
		{"deep", 13, 20, 0, []int{9, 7}, 4},           // never below two thirds of the width
		{"deep", 4, 32, 0, []int{8, 5}, 1},            // a quarter of 32 rows
		{"deep", 2, 0, 0, []int{32, 17}, 1},           // at least 32 wide
		{"deep", 784, 60000, 0, []int{523, 360}, 196}, // at most 256 wide, but two thirds of 784
		{"deep", 30, 225, 3, []int{56, 30}, 3},
		{"vae", 30, 225, 0, []int{56}, 8},
		{"basic", 30, 225, 0, nil, 8},
		{"sparse", 100, 1000, 0, []int{200, 113}, 25},
	} {
		hidden, code := models.TabularShape(tc.kind, tc.width, tc.rows, tc.latent)
		assert.Equal(t, tc.hidden, hidden, "%s %d", tc.kind, tc.width)
		assert.Equal(t, tc.code, code, "%s %d", tc.kind, tc.width)
	}
}

func TestTableFlags(t *testing.T) {
	s, err := tableSpec(30, true)
	require.NoError(t, err)
	assert.Equal(t, []int{60, 34}, s.Hidden, "sized from the width, not 128-64")
	assert.Equal(t, 8, s.Latent)
	assert.Equal(t, "sigmoid", s.Output)

	s, err = tableSpec(30, false, "-hidden", "16", "-latent", "8")
	require.NoError(t, err)
	assert.Equal(t, []int{16}, s.Hidden, "the issue's 30-16-8-16-30")
	assert.Equal(t, "identity", s.Output, "auto is linear for data outside [0,1]")
	assert.Equal(t, "mse", s.Loss)

	s, err = tableSpec(30, false, "-model", "vae")
	require.NoError(t, err)
	assert.Equal(t, "mse", s.Loss, "bce needs a sigmoid output")
	assert.Equal(t, "identity", s.Output)

	s, err = tableSpec(6, true, "-model", "sparse", "-latent", "12", "-overcomplete")
	require.NoError(t, err)
	assert.Equal(t, 12, s.Latent)

	s, err = specFrom("-output", "linear")
	require.NoError(t, err)
	assert.Equal(t, []int{512, 256}, s.Hidden, "pictures keep the kind's defaults")
	assert.Equal(t, "identity", s.Output)

	_, err = tableSpec(6, true, "-latent", "6")
	assert.ErrorContains(t, err, "-latent 6 is not smaller than the input's 6 values")
	_, err = tableSpec(1, true)
	assert.ErrorContains(t, err, "not smaller than the input's 1 values")
	_, err = tableSpec(6, false, "-recon-loss", "bce")
	assert.ErrorContains(t, err, "-recon-loss bce needs -output sigmoid")
	_, err = models.ParseSpec(`{"kind":"deep","input_shape":[1,1,6],"hidden":[4],"latent":2,"activation":"relu","output":"identity","loss":"bce"}`)
	assert.ErrorContains(t, err, "loss bce needs a sigmoid output")
}

// TestLinearOutputFits trains every dense kind with a linear output on
// standardised data (values of both signs, beyond ±1) and checks that the
// reconstruction error ends well below the data's variance — a sigmoid
// output could not get there.
func TestLinearOutputFits(t *testing.T) {
	const n, width = 256, 6
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*width)
	for i := range n {
		u, v := rng.NormFloat64(), rng.NormFloat64()
		for j := range width {
			x[i*width+j] = float32(u*float64(j-2)*0.8 + v*float64(j%3)*0.7)
		}
	}
	d := &dataset.Dataset{Name: "std", X: x, N: n, C: 1, H: 1, W: width}
	sc, err := dataset.FitScaler("standard", d)
	require.NoError(t, err)
	require.NoError(t, sc.Apply(d))
	for _, kind := range []string{"basic", "deep", "denoising", "sparse", "vae"} {
		t.Run(kind, func(t *testing.T) {
			args := []string{"-model", kind, "-output", "linear", "-latent", "2"}
			if kind == "denoising" {
				args = append(args, "-noise-std", "0.05")
			}
			if kind == "vae" {
				args = append(args, "-beta", "0.01")
			}
			s, err := tableSpec(width, false, args...)
			require.NoError(t, err)
			require.Equal(t, "identity", s.Output)
			m, err := models.New(s)
			require.NoError(t, err)
			_, err = train.Fit(context.Background(), m, d, nil, train.Config{Epochs: 150, Batch: 32, LR: 1e-2, Seed: 1})
			require.NoError(t, err)
			recon, err := models.Reconstruct(m, d.X, d.N)
			require.NoError(t, err)
			var mse float64
			negative := false
			for i, v := range recon {
				dv := float64(v - d.X[i])
				mse += dv * dv / float64(len(recon))
				negative = negative || v < -1
			}
			assert.True(t, negative, "reconstructions below -1")
			bound := 0.1
			if kind == "sparse" {
				bound = 0.5 // a 2-unit ReLU code cuts off half of each unit's range
			}
			assert.Less(t, mse, bound, "unit-variance data reconstructed")
		})
	}
}
