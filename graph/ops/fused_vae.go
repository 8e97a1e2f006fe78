package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The VAE's two latent-space terms as one node each. Built from Gorgonia's
// element-wise ops they take about forty nodes forward and backward on a
// batch×latent matrix (128×20 for the default VAE): each cheap, but each a
// serial call with its own buffer and type checks, a tenth of a training
// step while the second core waits. Fused, they are five nodes (the two
// sums Gorgonia adds for μ's and log σ²'s gradients included).

// Reparameterize adds one node computing z = mu + exp(logvar/2) ⊙ eps.
// The gradient flows into mu (the incoming gradient itself) and logvar
// (g ⊙ eps ⊙ exp(logvar/2) / 2); eps is data and gets none.
func Reparameterize(mu, logvar, eps *gorgonia.Node) (*gorgonia.Node, error) {
	if err := latentPair("reparameterize", mu, logvar); err != nil {
		return nil, err
	}
	if !mu.Shape().Eq(eps.Shape()) || eps.Dtype() != tensor.Float32 {
		return nil, fmt.Errorf("reparameterize: eps %v %v must be float32 of mu's shape %v", eps.Shape(), eps.Dtype(), mu.Shape())
	}
	n, err := gorgonia.ApplyOp(&reparamOp{matrixOp: matrixOp{3}}, mu, logvar, eps)
	if err != nil {
		return nil, fmt.Errorf("reparameterize: %w", err)
	}
	return n, nil
}

// GaussianKL adds one node computing KL(N(mu, exp(logvar)) ‖ N(0, I)) in
// nats, summed over the latent axis and averaged over the batch:
//
//	−(1/B) Σ ½ (1 + logvar − mu² − exp(logvar))
//
// Its gradients are mu/B and (exp(logvar) − 1)/(2B), times the incoming one.
func GaussianKL(mu, logvar *gorgonia.Node) (*gorgonia.Node, error) {
	if err := latentPair("gaussian kl", mu, logvar); err != nil {
		return nil, err
	}
	n, err := gorgonia.ApplyOp(&klOp{}, mu, logvar)
	if err != nil {
		return nil, fmt.Errorf("gaussian kl: %w", err)
	}
	return n, nil
}

// latentPair checks that mu and logvar are float32 batch×latent matrices of
// one shape.
func latentPair(what string, mu, logvar *gorgonia.Node) error {
	if mu.Dims() != 2 || !mu.Shape().Eq(logvar.Shape()) || mu.Shape().TotalSize() == 0 {
		return fmt.Errorf("%s: mu %v and logvar %v must both be batch×latent", what, mu.Shape(), logvar.Shape())
	}
	if mu.Dtype() != tensor.Float32 || logvar.Dtype() != tensor.Float32 {
		return fmt.Errorf("%s: mu and logvar must be float32, got %v and %v", what, mu.Dtype(), logvar.Dtype())
	}
	return nil
}

// latentValues reads n float32 inputs of one length.
func latentValues(what string, in []gorgonia.Value, n int) ([][]float32, error) {
	if err := checkArity(what, n, len(in)); err != nil {
		return nil, err
	}
	vs := make([][]float32, n)
	for i, v := range in {
		d, _, err := f32s(v, what)
		if err != nil {
			return nil, err
		}
		if i > 0 && len(d) != len(vs[0]) {
			return nil, fmt.Errorf("%s: inputs have %d and %d values: need equal", what, len(vs[0]), len(d))
		}
		vs[i] = d
	}
	return vs, nil
}

// matrixOp is the type and shape plumbing the latent ops embed: arity
// matrix inputs and a matrix output of the first input's shape.
type matrixOp struct{ arity int }

func (op matrixOp) Arity() int { return op.arity }
func (op matrixOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: 2, Of: a}
	ts := make([]hm.Type, op.arity+1)
	for i := range ts {
		ts[i] = t
	}
	return hm.NewFnType(ts...)
}
func (op matrixOp) InferShape(in ...gorgonia.DimSizer) (tensor.Shape, error) {
	s, ok := in[0].(tensor.Shape)
	if !ok {
		return nil, fmt.Errorf("want a shape, got %v", in[0])
	}
	return s.Clone(), nil
}
func (matrixOp) ReturnsPtr() bool     { return false }
func (matrixOp) CallsExtern() bool    { return false }
func (matrixOp) OverwritesInput() int { return -1 }

// ---------------------------------------------------------------------------
// reparamOp: z = mu + exp(logvar/2) ⊙ eps

type reparamOp struct {
	matrixOp
	out *tensor.Dense
}

func (op *reparamOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *reparamOp) Hashcode() uint32      { return hashOf(op) }
func (op *reparamOp) String() string        { return "Reparameterize" }

func (op *reparamOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	v, err := latentValues("reparameterize", in, 3)
	if err != nil {
		return nil, err
	}
	mu, lv, eps := v[0], v[1], v[2]
	out := ownBuf(&op.out, in[0].Shape()...)
	z := out.Float32s()[:len(mu)]
	for i, m := range mu {
		z[i] = m + float32(math.Exp(0.5*float64(lv[i])))*eps[i]
	}
	return out, nil
}

func (op *reparamOp) DiffWRT(int) []bool { return []bool{true, true, false} }

func (op *reparamOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if err := checkArity("reparameterize gradient", 3, len(inputs)); err != nil {
		return nil, err
	}
	dlv, err := gorgonia.ApplyOp(&reparamGradOp{matrixOp: matrixOp{3}}, inputs[1], inputs[2], grad)
	if err != nil {
		return nil, fmt.Errorf("reparameterize gradient: %w", err)
	}
	return gorgonia.Nodes{grad, dlv, nil}, nil
}

// reparamGradOp: dlogvar = g ⊙ eps ⊙ exp(logvar/2) / 2.
type reparamGradOp struct {
	matrixOp
	out *tensor.Dense
}

func (op *reparamGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *reparamGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *reparamGradOp) String() string        { return "ReparameterizeGrad" }

func (op *reparamGradOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	v, err := latentValues("reparameterize gradient", in, 3)
	if err != nil {
		return nil, err
	}
	lv, eps, g := v[0], v[1], v[2]
	out := ownBuf(&op.out, in[0].Shape()...)
	d := out.Float32s()[:len(lv)]
	for i, l := range lv {
		d[i] = 0.5 * g[i] * eps[i] * float32(math.Exp(0.5*float64(l)))
	}
	return out, nil
}

// ---------------------------------------------------------------------------
// klOp: −(1/B) Σ ½ (1 + logvar − mu² − exp(logvar))

type klOp struct {
	out gorgonia.F32
}

func (op *klOp) Arity() int { return 2 }
func (op *klOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, t, a)
}
func (op *klOp) InferShape(...gorgonia.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (op *klOp) ReturnsPtr() bool      { return false }
func (op *klOp) CallsExtern() bool     { return false }
func (op *klOp) OverwritesInput() int  { return -1 }
func (op *klOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *klOp) Hashcode() uint32      { return hashOf(op) }
func (op *klOp) String() string        { return "GaussianKL" }

func (op *klOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	v, err := latentValues("gaussian kl", in, 2)
	if err != nil {
		return nil, err
	}
	mu, lv := v[0], v[1]
	var s float64
	for i, m := range mu {
		l := float64(lv[i])
		s += 1 + l - float64(m)*float64(m) - math.Exp(l)
	}
	op.out = gorgonia.F32(-0.5 * s / float64(in[0].Shape()[0]))
	return &op.out, nil
}

func (op *klOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *klOp) SymDiff(inputs gorgonia.Nodes, output, grad *gorgonia.Node) (gorgonia.Nodes, error) {
	if err := checkArity("gaussian kl gradient", 2, len(inputs)); err != nil {
		return nil, err
	}
	dmu, err := gorgonia.ApplyOp(&klGradOp{matrixOp: matrixOp{2}, wrtLogvar: false}, inputs[0], grad)
	if err != nil {
		return nil, fmt.Errorf("gaussian kl gradient: %w", err)
	}
	dlv, err := gorgonia.ApplyOp(&klGradOp{matrixOp: matrixOp{2}, wrtLogvar: true}, inputs[1], grad)
	if err != nil {
		return nil, fmt.Errorf("gaussian kl gradient: %w", err)
	}
	return gorgonia.Nodes{dmu, dlv}, nil
}

// klGradOp is the KL's gradient with respect to mu (g·mu/B) or, with
// wrtLogvar, to logvar (g·(exp(logvar) − 1)/(2B)); its inputs are that
// matrix and the incoming scalar gradient.
type klGradOp struct {
	matrixOp
	wrtLogvar bool
	out       *tensor.Dense
}

// Type: the matrix and the incoming scalar, to a matrix (matrixOp's would
// take two matrices).
func (op *klGradOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	t := gorgonia.TensorType{Dims: 2, Of: a}
	return hm.NewFnType(t, a, t)
}
func (op *klGradOp) WriteHash(h hash.Hash) { fmt.Fprint(h, op.String()) }
func (op *klGradOp) Hashcode() uint32      { return hashOf(op) }
func (op *klGradOp) String() string        { return fmt.Sprintf("GaussianKLGrad{logvar=%t}", op.wrtLogvar) }

func (op *klGradOp) Do(in ...gorgonia.Value) (gorgonia.Value, error) {
	if err := checkArity("gaussian kl gradient", 2, len(in)); err != nil {
		return nil, err
	}
	x, shape, err := f32s(in[0], "gaussian kl gradient")
	if err != nil {
		return nil, err
	}
	g, err := scalarOf(in[1])
	if err != nil {
		return nil, fmt.Errorf("gaussian kl gradient: %w", err)
	}
	out := ownBuf(&op.out, shape...)
	d := out.Float32s()[:len(x)]
	s := g / float32(shape[0])
	if op.wrtLogvar {
		for i, l := range x {
			d[i] = 0.5 * s * (float32(math.Exp(float64(l))) - 1)
		}
	} else {
		for i, m := range x {
			d[i] = s * m
		}
	}
	return out, nil
}
