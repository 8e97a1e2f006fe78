package models

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegistry(t *testing.T) {
	assert.Equal(t, []string{"basic", "deep", "denoising", "sparse", "conv", "vae", "convvae"}, Kinds())
	for _, name := range Kinds() {
		t.Run(name, func(t *testing.T) {
			k, err := LookupKind(name)
			require.NoError(t, err)
			assert.NotEmpty(t, k.Summary)
			s, err := DefaultSpec(name, []int{1, 28, 28}, 0)
			require.NoError(t, err)
			m, err := New(s)
			require.NoError(t, err)
			_, variational := m.(Variational)
			_, generator := m.(Generator)
			assert.Equal(t, k.Variational, variational, "the Variational trait matches the model")
			assert.Equal(t, k.Variational, generator)
			assert.Equal(t, k.Conv, len(s.Channels) > 0, "conv kinds default to channels, dense kinds to none")
		})
	}
	_, err := LookupKind("transformer")
	assert.EqualError(t, err, `unknown model kind "transformer" (valid: basic, deep, denoising, sparse, conv, vae, convvae)`)
	assert.Equal(t, []string{"vae", "convvae"}, kindsWithFlag("beta"))
	assert.Equal(t, []string{"denoising"}, kindsWithFlag("noise"))
}
