package train

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/hourglass-ml/hourglass/graph"
	"github.com/hourglass-ml/hourglass/internal/kernels"
)

// flush maps subnormal values (magnitude below the smallest normal float32,
// 1.18e-38) to zero: subnormal arithmetic costs ~100 cycles on x86, and
// Adam's moments of dead units decay into that range after a few hundred
// steps, which would slow every later step. It tests the exponent bits: a
// branch on x's magnitude mispredicts on every sign change (SGD ran at
// 7.5 ns a parameter with it, 0.8 ns with this).
func flush(x float32) float32 {
	if math.Float32bits(x)&0x7f800000 == 0 { // ±0 or subnormal
		return 0
	}
	return x
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

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

// Optimizers lists the optimizer names NewOptimizer accepts.
func Optimizers() []string { return []string{"adam", "adamw", "sgd", "rmsprop"} }

// OptimConfig chooses and tunes an optimizer. Zero fields take the defaults
// of PyTorch's optimizer of the same name.
type OptimConfig struct {
	Name string `json:"name"` // adam (default), adamw, sgd, rmsprop
	// Beta1, Beta2 are Adam's moment decays (0.9, 0.999).
	Beta1 float64 `json:"beta1,omitempty"`
	Beta2 float64 `json:"beta2,omitempty"`
	// Eps guards the division of adam, adamw and rmsprop (1e-8).
	Eps float64 `json:"eps,omitempty"`
	// Alpha is RMSprop's squared-gradient decay (0.99).
	Alpha float64 `json:"alpha,omitempty"`
	// Momentum of sgd and rmsprop (0: none).
	Momentum float64 `json:"momentum,omitempty"`
	// Nesterov selects Nesterov momentum for sgd.
	Nesterov bool `json:"nesterov,omitempty"`
	// WeightDecay is an L2 term added to the gradient (adam, sgd, rmsprop)
	// or, for adamw, the decoupled decay w -= lr·wd·w.
	WeightDecay float64 `json:"weight_decay,omitempty"`
}

func (c OptimConfig) withDefaults() OptimConfig {
	if c.Name == "" {
		c.Name = "adam"
	}
	c.Name = strings.ToLower(c.Name)
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Beta1, 0.9)
	def(&c.Beta2, 0.999)
	def(&c.Eps, 1e-8)
	def(&c.Alpha, 0.99)
	return c
}

// Validate reports the first bad field.
func (c OptimConfig) Validate() error {
	c = c.withDefaults()
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) }
	switch {
	case !contains(Optimizers(), c.Name):
		return fmt.Errorf("unknown optimizer %q (valid: %s)", c.Name, strings.Join(Optimizers(), ", "))
	case bad(c.Beta1) || c.Beta1 < 0 || c.Beta1 >= 1:
		return fmt.Errorf("beta1 %g must be in [0,1)", c.Beta1)
	case bad(c.Beta2) || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("beta2 %g must be in [0,1)", c.Beta2)
	case bad(c.Eps) || c.Eps < 0:
		return fmt.Errorf("eps %g must be zero or more", c.Eps)
	case bad(c.Alpha) || c.Alpha < 0 || c.Alpha >= 1:
		return fmt.Errorf("alpha %g must be in [0,1)", c.Alpha)
	case bad(c.Momentum) || c.Momentum < 0 || c.Momentum >= 1:
		return fmt.Errorf("momentum %g must be in [0,1)", c.Momentum)
	case c.Nesterov && (c.Name != "sgd" || c.Momentum == 0):
		return fmt.Errorf("nesterov needs the sgd optimizer with a momentum above 0 (optimizer %s, momentum %g)", c.Name, c.Momentum)
	case c.Momentum != 0 && c.Name != "sgd" && c.Name != "rmsprop":
		return fmt.Errorf("momentum %g applies to sgd and rmsprop, not %s", c.Momentum, c.Name)
	case bad(c.WeightDecay) || c.WeightDecay < 0:
		return fmt.Errorf("weight decay %g must be zero or more", c.WeightDecay)
	}
	return nil
}

// NewOptimizer builds the optimizer c describes.
func NewOptimizer(c OptimConfig) (Optimizer, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	switch c.Name {
	case "adam", "adamw":
		return &Adam{Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, WeightDecay: c.WeightDecay, Decoupled: c.Name == "adamw", bufs: slots{}}, nil
	case "sgd":
		return &SGD{Momentum: c.Momentum, Nesterov: c.Nesterov, WeightDecay: c.WeightDecay, bufs: slots{}}, nil
	default: // rmsprop; Validate rejected everything else
		return &RMSprop{Alpha: c.Alpha, Eps: c.Eps, Momentum: c.Momentum, WeightDecay: c.WeightDecay, bufs: slots{}}, nil
	}
}

// ClipGradNorm scales grads in place so that their global L2 norm is at
// most maxNorm (PyTorch's clip_grad_norm_, with its 1e-6 guard) and returns
// the norm before clipping. maxNorm <= 0 only measures.
func ClipGradNorm(grads [][]float32, maxNorm float64) float64 {
	var ss float64
	for _, g := range grads {
		for _, x := range g {
			ss += float64(x) * float64(x)
		}
	}
	norm := math.Sqrt(ss)
	if maxNorm > 0 && norm > maxNorm {
		scale := float32(maxNorm / (norm + 1e-6))
		for _, g := range grads {
			for j := range g {
				g[j] *= scale
			}
		}
	}
	return norm
}

// ErrNoOptimState is wrapped by the error resuming from a checkpoint
// without the optimizer buffers the run needs.
var ErrNoOptimState = errors.New("checkpoint lacks optimizer state")

// slots are an optimizer's per-parameter buffers, keyed "KIND/PARAM".
type slots map[string][]float32

func (s slots) get(kind, param string, n int) []float32 {
	k := kind + "/" + param
	b, ok := s[k]
	if !ok {
		b = make([]float32, n)
		s[k] = b
	}
	return b
}

func (s slots) state() map[string][]float32 {
	out := make(map[string][]float32, len(s))
	for k, b := range s {
		out[k] = b
	}
	return out
}

// load copies the kinds' buffers of every parameter from state, checking
// that each one is there and fits.
func (s slots) load(opt string, state map[string][]float32, params []*graph.Param, kinds ...string) error {
	for _, p := range params {
		for _, kind := range kinds {
			k := kind + "/" + p.Name
			b, ok := state[k]
			if !ok {
				if len(state) == 0 {
					return fmt.Errorf("%w: it holds no %s state (saved before the first step, or without an optimizer), so it can be evaluated but not resumed; start a new run", ErrNoOptimState, opt)
				}
				return fmt.Errorf("%w: %s state %s is missing (was the checkpoint written by another optimizer?), so it can be evaluated but not resumed", ErrNoOptimState, opt, k)
			}
			if len(b) != p.Size() {
				return fmt.Errorf("%s state: %s has %d values, want %d", opt, k, len(b), p.Size())
			}
			s[k] = append([]float32(nil), b...)
		}
	}
	return nil
}

func checkGrads(opt string, params []*graph.Param, grads [][]float32) error {
	if len(params) != len(grads) {
		return fmt.Errorf("%s: %d parameters but %d gradients", opt, len(params), len(grads))
	}
	for i, p := range params {
		if len(grads[i]) != p.Size() {
			return fmt.Errorf("%s: gradient of %s has %d values, want %d", opt, p.Name, len(grads[i]), p.Size())
		}
	}
	return nil
}

// Adam is Adam (Kingma & Ba) with PyTorch's bias correction; Decoupled
// makes it AdamW (Loshchilov & Hutter), whose weight decay shrinks the
// weights directly instead of joining the gradient.
type Adam struct {
	Beta1, Beta2, Eps float64
	WeightDecay       float64
	Decoupled         bool
	t                 int
	bufs              slots
}

// NewAdam returns Adam with the usual defaults (0.9, 0.999, 1e-8).
func NewAdam() *Adam {
	return &Adam{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, bufs: slots{}}
}

// Name is "adam", or "adamw" when the decay is decoupled.
func (a *Adam) Name() string {
	if a.Decoupled {
		return "adamw"
	}
	return "adam"
}

// Steps is the number of updates so far.
func (a *Adam) Steps() int { return a.t }

// SetSteps sets the update count (used when resuming).
func (a *Adam) SetSteps(n int) { a.t = n }

// Step applies one Adam update to every parameter.
func (a *Adam) Step(params []*graph.Param, grads [][]float32, lr float64) error {
	if err := checkGrads(a.Name(), params, grads); err != nil {
		return err
	}
	a.t++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.t))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.t))
	l2, shrink := float32(a.WeightDecay), float32(1)
	if a.Decoupled {
		l2, shrink = 0, float32(1-lr*a.WeightDecay)
	}
	for i, p := range params {
		w := p.Data()
		m, v := a.bufs.get("m", p.Name, len(w)), a.bufs.get("v", p.Name, len(w))
		if shrink != 1 {
			// AdamW: w ← w·(1 − lr·wd) before the Adam step, as PyTorch does.
			for j, x := range w {
				w[j] = flush(x * shrink)
			}
		}
		// PyTorch's w -= lr/bc1 · m / (sqrt(v)/sqrt(bc2) + eps) in one pass
		// (AVX2 where the CPU has it, split across cores for large tensors),
		// moments flushed of subnormals.
		kernels.AdamUpdate(w, grads[i], m, v, float32(lr), float32(a.Beta1), float32(a.Beta2), float32(a.Eps), float32(bc1), float32(bc2), l2)
	}
	return nil
}

// State returns the moment buffers as "m/NAME" and "v/NAME".
func (a *Adam) State() map[string][]float32 { return a.bufs.state() }

// Load restores moment buffers, checking they fit the parameters.
func (a *Adam) Load(state map[string][]float32, params []*graph.Param) error {
	return a.bufs.load(a.Name(), state, params, "m", "v")
}

// SGD is stochastic gradient descent with optional (Nesterov) momentum, as
// PyTorch defines it (no dampening).
type SGD struct {
	Momentum    float64
	Nesterov    bool
	WeightDecay float64
	t           int
	bufs        slots
}

// Name is "sgd".
func (s *SGD) Name() string { return "sgd" }

// Steps is the number of updates so far.
func (s *SGD) Steps() int { return s.t }

// SetSteps sets the update count (used when resuming).
func (s *SGD) SetSteps(n int) { s.t = n }

// Step applies one SGD update to every parameter.
func (s *SGD) Step(params []*graph.Param, grads [][]float32, lr float64) error {
	if err := checkGrads("sgd", params, grads); err != nil {
		return err
	}
	s.t++
	for i, p := range params {
		w := p.Data()
		var buf []float32
		if s.Momentum != 0 {
			buf = s.bufs.get("momentum", p.Name, len(w))
		}
		sgdUpdate(w, grads[i], buf, float32(lr), float32(s.Momentum), float32(s.WeightDecay), s.Nesterov)
	}
	return nil
}

// sgdUpdate is one SGD update of one parameter in place: d = g + wd·w;
// buf = μ·buf + d; w -= lr·(d + μ·buf) with Nesterov, lr·buf without, and
// lr·d when buf is nil (no momentum). A zero buf on the first step equals
// PyTorch's buf = d.
func sgdUpdate(w, g, buf []float32, lr, mu, wd float32, nesterov bool) {
	for j := range w {
		d := g[j] + wd*w[j]
		if buf != nil {
			b := flush(mu*buf[j] + d)
			buf[j] = b
			if nesterov {
				d += mu * b
			} else {
				d = b
			}
		}
		w[j] = flush(w[j] - lr*d)
	}
}

// State returns the momentum buffers as "momentum/NAME" (none without momentum).
func (s *SGD) State() map[string][]float32 { return s.bufs.state() }

// Load restores the momentum buffers.
func (s *SGD) Load(state map[string][]float32, params []*graph.Param) error {
	if s.Momentum == 0 {
		return nil
	}
	return s.bufs.load("sgd", state, params, "momentum")
}

// RMSprop is Hinton's RMSprop as PyTorch defines it (not centred).
type RMSprop struct {
	Alpha, Eps  float64
	Momentum    float64
	WeightDecay float64
	t           int
	bufs        slots
}

// Name is "rmsprop".
func (r *RMSprop) Name() string { return "rmsprop" }

// Steps is the number of updates so far.
func (r *RMSprop) Steps() int { return r.t }

// SetSteps sets the update count (used when resuming).
func (r *RMSprop) SetSteps(n int) { r.t = n }

// Step applies one RMSprop update to every parameter.
func (r *RMSprop) Step(params []*graph.Param, grads [][]float32, lr float64) error {
	if err := checkGrads("rmsprop", params, grads); err != nil {
		return err
	}
	r.t++
	for i, p := range params {
		w := p.Data()
		var buf []float32
		if r.Momentum != 0 {
			buf = r.bufs.get("momentum", p.Name, len(w))
		}
		rmspropUpdate(w, grads[i], r.bufs.get("square_avg", p.Name, len(w)), buf,
			float32(lr), float32(r.Alpha), float32(r.Eps), float32(r.Momentum), float32(r.WeightDecay))
	}
	return nil
}

// rmspropUpdate is one RMSprop update of one parameter in place:
// d = g + wd·w; sq = α·sq + (1-α)·d²; step = d / (sqrt(sq) + eps);
// with momentum buf = μ·buf + step and w -= lr·buf, else w -= lr·step.
func rmspropUpdate(w, g, sq, buf []float32, lr, alpha, eps, mu, wd float32) {
	for j := range w {
		d := g[j] + wd*w[j]
		s := flush(alpha*sq[j] + (1-alpha)*d*d)
		sq[j] = s
		step := d / (sqrt32(s) + eps)
		if buf != nil {
			step = flush(mu*buf[j] + step)
			buf[j] = step
		}
		w[j] = flush(w[j] - lr*step)
	}
}

// State returns "square_avg/NAME" and, with momentum, "momentum/NAME".
func (r *RMSprop) State() map[string][]float32 { return r.bufs.state() }

// Load restores the buffers.
func (r *RMSprop) Load(state map[string][]float32, params []*graph.Param) error {
	kinds := []string{"square_avg"}
	if r.Momentum != 0 {
		kinds = append(kinds, "momentum")
	}
	return r.bufs.load("rmsprop", state, params, kinds...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
