package models_test

import (
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/models"
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
