package onnx

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
)

func TestClippingScalerIsRefused(t *testing.T) {
	spec, err := models.DefaultSpec("basic", []int{1, 1, 4}, 2)
	require.NoError(t, err)
	m, err := models.New(spec)
	require.NoError(t, err)
	sc := &dataset.Scaler{Kind: "standard", A: []float32{0, 0, 0, 0}, B: []float32{1, 1, 1, 1}, Clip: 5}
	var buf bytes.Buffer
	err = Write(&buf, m, sc, Options{})
	assert.ErrorContains(t, err, "clips scaled values to ±5")
	assert.Zero(t, buf.Len(), "nothing written")
}
