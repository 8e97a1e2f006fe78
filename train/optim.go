package train

import (
	"fmt"
	"math"

	"github.com/hourglass-ml/hourglass/graph"
)

// minNormal is the smallest normal float32. Values below it in magnitude
// are flushed to zero: subnormal arithmetic costs ~100 cycles on x86, and
// Adam's moments of dead units decay into that range after a few hundred
// steps, which would slow every later step.
const minNormal = 1.17549435e-38

func flush(x float32) float32 {
	if x < minNormal && x > -minNormal {
		return 0
	}
	return x
}

// Optimizer updates parameters in place from their gradients.
type Optimizer interface {
	Name() string
	// Step applies one update with learning rate lr; grads[i] belongs to params[i].
	Step(params []*graph.Param, grads [][]float32, lr float64) error
	// State returns the optimizer's buffers by name, for checkpoints.
	State() map[string][]float32
	// Load restores buffers written by State.
	Load(state map[string][]float32, params []*graph.Param) error
	// Steps is the number of updates applied so far.
	Steps() int
	SetSteps(n int)
}

// Adam is Adam (Kingma & Ba) with PyTorch's bias correction.
type Adam struct {
	Beta1, Beta2, Eps float64
	t                 int
	m, v              map[string][]float32
}

// NewAdam returns Adam with the usual defaults (0.9, 0.999, 1e-8).
func NewAdam() *Adam {
	return &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, m: map[string][]float32{}, v: map[string][]float32{}}
}

// Name is "adam".
func (a *Adam) Name() string { return "adam" }

// Steps is the number of updates so far.
func (a *Adam) Steps() int { return a.t }

// SetSteps sets the update count (used when resuming).
func (a *Adam) SetSteps(n int) { a.t = n }

// Step applies one Adam update to every parameter.
func (a *Adam) Step(params []*graph.Param, grads [][]float32, lr float64) error {
	if len(params) != len(grads) {
		return fmt.Errorf("adam: %d parameters but %d gradients", len(params), len(grads))
	}
	a.t++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.t))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.t))
	stepSize := float32(lr / bc1)
	invSqrtBC2 := float32(1 / math.Sqrt(bc2))
	b1, b2, eps := float32(a.Beta1), float32(a.Beta2), float32(a.Eps)
	for i, p := range params {
		w, g := p.Data(), grads[i]
		if len(g) != len(w) {
			return fmt.Errorf("adam: gradient of %s has %d values, want %d", p.Name, len(g), len(w))
		}
		m, v := a.buffers(p.Name, len(w))
		for j := range w {
			gj := g[j]
			mj := flush(b1*m[j] + (1-b1)*gj)
			vj := flush(b2*v[j] + (1-b2)*gj*gj)
			m[j], v[j] = mj, vj
			// PyTorch: p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
			w[j] = flush(w[j] - stepSize*mj/(float32(math.Sqrt(float64(vj)))*invSqrtBC2+eps))
		}
	}
	return nil
}

func (a *Adam) buffers(name string, n int) (m, v []float32) {
	m, ok := a.m[name]
	if !ok {
		m = make([]float32, n)
		a.m[name] = m
	}
	v, ok = a.v[name]
	if !ok {
		v = make([]float32, n)
		a.v[name] = v
	}
	return m, v
}

// State returns the moment buffers as "m/NAME" and "v/NAME".
func (a *Adam) State() map[string][]float32 {
	s := map[string][]float32{}
	for k, b := range a.m {
		s["m/"+k] = b
	}
	for k, b := range a.v {
		s["v/"+k] = b
	}
	return s
}

// Load restores moment buffers, checking they fit the parameters.
func (a *Adam) Load(state map[string][]float32, params []*graph.Param) error {
	for _, p := range params {
		for _, prefix := range []string{"m/", "v/"} {
			b, ok := state[prefix+p.Name]
			if !ok {
				return fmt.Errorf("adam state: missing %s%s", prefix, p.Name)
			}
			if len(b) != p.Size() {
				return fmt.Errorf("adam state: %s%s has %d values, want %d", prefix, p.Name, len(b), p.Size())
			}
			dst := a.m
			if prefix == "v/" {
				dst = a.v
			}
			dst[p.Name] = append([]float32(nil), b...)
		}
	}
	return nil
}
