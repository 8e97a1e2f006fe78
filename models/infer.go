package models

import (
	"fmt"

	G "gorgonia.org/gorgonia"
)

// InferBatch is the batch size of inference graphs: large enough to keep
// matrix products efficient, small enough to bound memory.
const InferBatch = 256

// Encode returns the codes (n×latent) of n samples x (n×C·H·W).
func Encode(m Model, x []float32, n int) ([]float32, error) {
	return apply(m, x, n, m.Spec().InputDim(), m.Encode)
}

// Decode returns the outputs (n×C·H·W) for n codes z (n×latent).
func Decode(m Model, z []float32, n int) ([]float32, error) {
	return apply(m, z, n, m.Spec().Latent, m.Decode)
}

// Reconstruct returns Decode(Encode(x)) without corruption or sampling.
func Reconstruct(m Model, x []float32, n int) ([]float32, error) {
	return ReconstructBatch(m, x, n, InferBatch)
}

// ReconstructBatch is Reconstruct with graphs of the given batch size:
// larger batches score faster and take more memory.
func ReconstructBatch(m Model, x []float32, n, batch int) ([]float32, error) {
	return applyInto(m, nil, x, n, m.Spec().InputDim(), batch, autoencoder(m))
}

// ReconstructInto is ReconstructBatch writing into dst (n×C·H·W), so that a
// scorer called again and again reuses one output buffer.
func ReconstructInto(m Model, dst, x []float32, n, batch int) error {
	if len(dst) != n*m.Spec().InputDim() {
		return fmt.Errorf("output buffer has %d values, want %d samples × %d", len(dst), n, m.Spec().InputDim())
	}
	_, err := applyInto(m, dst, x, n, m.Spec().InputDim(), batch, autoencoder(m))
	return err
}

func autoencoder(m Model) func(*G.Node) (*G.Node, error) {
	return func(in *G.Node) (*G.Node, error) {
		z, err := m.Encode(in)
		if err != nil {
			return nil, err
		}
		return m.Decode(z)
	}
}

// apply runs fn over n rows of width inDim in batches of InferBatch,
// zero-padding the last batch and dropping its padded rows.
func apply(m Model, data []float32, n, inDim int, fn func(*G.Node) (*G.Node, error)) ([]float32, error) {
	return applyBatch(m, data, n, inDim, InferBatch, fn)
}

func applyBatch(m Model, data []float32, n, inDim, batch int, fn func(*G.Node) (*G.Node, error)) ([]float32, error) {
	return applyInto(m, nil, data, n, inDim, batch, fn)
}

// applyInto runs fn over the rows of data and writes the outputs into res,
// or into a new slice when res is nil.
func applyInto(m Model, res, data []float32, n, inDim, batch int, fn func(*G.Node) (*G.Node, error)) ([]float32, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("inference batch size %d must be positive", batch)
	}
	if n <= 0 {
		return nil, fmt.Errorf("no samples to run through the model")
	}
	if len(data) != n*inDim {
		return nil, fmt.Errorf("input has %d values, want %d samples × %d = %d", len(data), n, inDim, n*inDim)
	}
	r, err := newRunner(m, min(batch, n), inDim, func(x *G.Node) ([]*G.Node, error) {
		y, err := fn(x)
		return []*G.Node{y}, err
	})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if res == nil {
		res = make([]float32, n*r.Widths()[0])
	}
	if err := r.Run(data, n, res); err != nil {
		return nil, err
	}
	return res, nil
}

// Posterior returns the posterior means and log-variances (n×latent each)
// of n samples x under a variational model.
func Posterior(m Model, x []float32, n int) (mu, logvar []float32, err error) {
	v, ok := m.(Variational)
	if !ok {
		return nil, nil, fmt.Errorf("model %s has no posterior distribution (variational kinds: vae, convvae)", m.Spec().Kind)
	}
	if mu, err = Encode(m, x, n); err != nil {
		return nil, nil, err
	}
	logvar, err = apply(m, x, n, m.Spec().InputDim(), func(in *G.Node) (*G.Node, error) {
		_, lv, err := v.EncodeDist(in)
		return lv, err
	})
	return mu, logvar, err
}

// streamChunk is how many samples ReconstructEach holds reconstructed at
// once: a multiple of InferBatch, so that every batch is the one
// Reconstruct would run, and small enough (12 MB of 28×28 images) that
// scoring 60,000 images does not hold 60,000 reconstructions.
const streamChunk = 16 * InferBatch

// ReconstructEach reconstructs n samples x (n×C·H·W) a chunk at a time and
// calls fn with each chunk's first sample index, its inputs and their
// reconstructions (the same values Reconstruct returns); recon is reused
// by the next chunk.
func ReconstructEach(m Model, x []float32, n int, fn func(start int, x, recon []float32) error) error {
	dim := m.Spec().InputDim()
	if n <= 0 || len(x) != n*dim {
		return fmt.Errorf("input has %d values, want a positive number of samples × %d", len(x), dim)
	}
	r, err := NewRunner(m, min(InferBatch, n), AutoencoderBuild(m))
	if err != nil {
		return err
	}
	defer r.Close()
	buf := make([]float32, min(n, streamChunk)*dim)
	for start := 0; start < n; start += streamChunk {
		k := min(streamChunk, n-start)
		in, out := x[start*dim:(start+k)*dim], buf[:k*dim]
		if err := r.Run(in, k, out, nil); err != nil {
			return err
		}
		if err := fn(start, in, out); err != nil {
			return err
		}
	}
	return nil
}
