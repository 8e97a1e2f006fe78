package models

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/device"
	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// Runner is an inference graph compiled once and run batch after batch:
// scoring a stream of requests then costs no graph building per call.
// A Runner is not safe for concurrent use; give each goroutine its own
// (the root package pools them). Close frees it.
type Runner struct {
	m      Model
	g      *G.ExprGraph
	vm     G.VM
	x      *G.Node
	in     []float32
	inT    G.Value // in as the input's value
	direct bool    // full batches are read where the caller keeps them
	outs   []G.Value
	widths []int
	batch  int
	inDim  int
}

// Build makes the outputs of an inference graph from its input x
// (batch×C·H·W); each output has the batch as its first dimension.
type Build func(x *G.Node) ([]*G.Node, error)

// NewRunner compiles build for batches of batch samples.
func NewRunner(m Model, batch int, build Build) (*Runner, error) {
	return newRunner(m, batch, m.Spec().InputDim(), build)
}

// newRunner is NewRunner for inputs of width inDim (codes, for Decode).
func newRunner(m Model, batch, inDim int, build Build) (*Runner, error) {
	if batch <= 0 {
		return nil, fmt.Errorf("inference batch size %d must be positive", batch)
	}
	r := &Runner{m: m, g: G.NewGraph(), batch: batch, inDim: inDim}
	x, in := input(r.g, "x", batch, r.inDim)
	r.x, r.in, r.inT = x, in, x.Value()
	outs, err := build(x)
	if err != nil {
		m.Params().Forget(r.g)
		return nil, err
	}
	r.direct = readOnly(r.g, x)
	r.outs = make([]G.Value, len(outs))
	for i, o := range outs {
		if o.Shape().TotalSize()%batch != 0 {
			m.Params().Forget(r.g)
			return nil, fmt.Errorf("inference output %d has shape %v, not a multiple of the batch %d", i, o.Shape(), batch)
		}
		r.widths = append(r.widths, o.Shape().TotalSize()/batch)
		G.Read(o, &r.outs[i])
	}
	if r.vm, err = device.NewMachine(r.g, device.DefaultDevice()); err != nil {
		m.Params().Forget(r.g)
		return nil, err
	}
	return r, nil
}

// Widths are the values per sample of each output.
func (r *Runner) Widths() []int { return r.widths }

// Run feeds n samples x (n×C·H·W) through the graph in batches, padding
// the last one, and writes output i of every sample into dst[i]
// (n×Widths()[i]); a nil dst[i] drops that output, so that a caller who
// wants only the scores does not hold n reconstructions.
func (r *Runner) Run(x []float32, n int, dst ...[]float32) error {
	if n <= 0 || len(x) != n*r.inDim {
		return fmt.Errorf("input has %d values, want a positive number of samples × %d", len(x), r.inDim)
	}
	if len(dst) != len(r.outs) {
		return fmt.Errorf("%d output buffers for %d outputs", len(dst), len(r.outs))
	}
	for i, d := range dst {
		if d != nil && len(d) != n*r.widths[i] {
			return fmt.Errorf("output buffer %d has %d values, want %d samples × %d", i, len(d), n, r.widths[i])
		}
	}
	if r.direct {
		defer func() { _ = G.Let(r.x, r.inT) }() // hold no reference to x
	}
	for start := 0; start < n; start += r.batch {
		k := min(r.batch, n-start)
		if err := r.feed(x[start*r.inDim : (start+k)*r.inDim]); err != nil {
			return err
		}
		err := r.vm.RunAll()
		if err == nil {
			for i, o := range r.outs {
				if dst[i] == nil {
					continue
				}
				w := r.widths[i]
				kernels.Copy(dst[i][start*w:(start+k)*w], o.Data().([]float32))
			}
		}
		r.vm.Reset()
		if err != nil {
			return fmt.Errorf("running the model: %w", err)
		}
	}
	return nil
}

// feed makes batch the graph's input: a full batch in place when no op
// may write into its input (a copy and a memory pass fewer per batch), else
// copied into the runner's own buffer and zero-padded.
func (r *Runner) feed(batch []float32) error {
	if r.direct && len(batch) == len(r.in) {
		if err := G.Let(r.x, tensorOf(batch, r.batch, r.inDim)); err != nil {
			return fmt.Errorf("feeding a batch: %w", err)
		}
		return nil
	}
	if r.direct {
		if err := G.Let(r.x, r.inT); err != nil {
			return fmt.Errorf("feeding a batch: %w", err)
		}
	}
	kernels.Copy(r.in, batch)
	clear(r.in[len(batch):])
	return nil
}

// readOnly reports that no op reading x may overwrite an input (Gorgonia
// runs such an op in place when x is not read after it), so x's value can
// be the caller's memory.
func readOnly(g *G.ExprGraph, x *G.Node) bool {
	for readers := g.To(x.ID()); readers.Next(); {
		n, ok := readers.Node().(*G.Node)
		if !ok || (n.Op() != nil && n.Op().OverwritesInput() >= 0) {
			return false
		}
	}
	return true
}

// Close frees the machine and the graph's parameter nodes.
func (r *Runner) Close() {
	if r.vm != nil {
		r.vm.Close()
		r.vm = nil
	}
	r.m.Params().Forget(r.g)
}

// AutoencoderBuild builds the reconstruction x̂ = Decode(Encode(x)) and the
// code z, in that order.
func AutoencoderBuild(m Model) Build {
	return func(x *G.Node) ([]*G.Node, error) {
		z, err := m.Encode(x)
		if err != nil {
			return nil, err
		}
		xHat, err := m.Decode(z)
		if err != nil {
			return nil, err
		}
		return []*G.Node{xHat, z}, nil
	}
}

// ScoreBuild builds the reconstruction, the code and each sample's anomaly
// score from the model's own graph: the negative ELBO at the posterior
// mean for variational kinds (see Variational.NegELBO), else the mean
// squared reconstruction error over the sample's values.
func ScoreBuild(m Model) Build {
	return func(x *G.Node) ([]*G.Node, error) {
		outs, err := AutoencoderBuild(m)(x)
		if err != nil {
			return nil, err
		}
		var score *G.Node
		if v, ok := m.(Variational); ok {
			score, err = v.NegELBO(x)
		} else {
			score, err = sampleMSE(outs[0], x)
		}
		if err != nil {
			return nil, err
		}
		return append(outs, score), nil
	}
}

// sampleMSE is each row's mean squared difference of pred and target.
func sampleMSE(pred, target *G.Node) (*G.Node, error) {
	d, err := G.Sub(pred, target)
	if err != nil {
		return nil, err
	}
	sq, err := G.Square(d)
	if err != nil {
		return nil, err
	}
	return G.Mean(sq, 1)
}

// Scores returns each of n samples' anomaly score under m (see ScoreBuild).
func Scores(m Model, x []float32, n int) ([]float64, error) {
	r, err := NewRunner(m, min(InferBatch, max(n, 1)), ScoreBuild(m))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	score := make([]float32, n)
	if err := r.Run(x, n, nil, nil, score); err != nil {
		return nil, err
	}
	out := make([]float64, n)
	for i, s := range score {
		out[i] = float64(s)
	}
	return out, nil
}
