// Package gradcheck compares Gorgonia's symbolic gradients with central
// finite differences. It is shared by the tests of graph/ and models/ so
// every layer and every model kind is checked the same way.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"

	"github.com/hourglass-ml/hourglass/graph"
)

// Build makes the scalar loss to check in g and returns a function that
// writes the graph's inputs (it is called before every evaluation, so fixed
// inputs and fixed noise give a deterministic loss).
type Build func(g *G.ExprGraph) (loss *G.Node, feed func(), err error)

// Result is the agreement between analytic and numeric gradients over the
// sampled coordinates: RelErr = ‖a−n‖ / (‖a‖+‖n‖).
type Result struct {
	RelErr   float64
	Checked  int
	Analytic []float64
	Numeric  []float64
}

// Check samples up to perParam coordinates of every parameter in ps that the
// loss uses and differentiates the loss numerically with step h.
func Check(ps *graph.Params, build Build, perParam int, h float64, seed uint64) (*Result, error) {
	g := G.NewGraph()
	defer ps.Forget(g)
	loss, feed, err := build(g)
	if err != nil {
		return nil, err
	}
	nodes, params := ps.Nodes(g)
	if len(nodes) == 0 {
		return nil, fmt.Errorf("gradcheck: the loss uses no parameters")
	}
	if _, err := G.Grad(loss, nodes...); err != nil {
		return nil, fmt.Errorf("gradcheck: differentiating: %w", err)
	}
	var lv G.Value
	G.Read(loss, &lv)
	vm := G.NewTapeMachine(g, G.BindDualValues(nodes...))
	defer vm.Close()
	eval := func() (float64, error) {
		feed()
		defer vm.Reset()
		if err := vm.RunAll(); err != nil {
			return 0, err
		}
		switch v := lv.Data().(type) {
		case float32:
			return float64(v), nil
		case float64:
			return v, nil
		}
		return 0, fmt.Errorf("gradcheck: loss is not a scalar float")
	}
	if _, err := eval(); err != nil {
		return nil, err
	}
	analytic := make([][]float32, len(nodes))
	for i, n := range nodes {
		gv, err := n.Grad()
		if err != nil {
			return nil, fmt.Errorf("gradcheck: gradient of %s: %w", n.Name(), err)
		}
		analytic[i] = append([]float32(nil), gv.Data().([]float32)...)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	res := &Result{}
	var diff, na, nn float64
	for i, p := range params {
		w := p.Data()
		for k := 0; k < min(perParam, len(w)); k++ {
			j := rng.IntN(len(w))
			orig := w[j]
			w[j] = orig + float32(h)
			up, err := eval()
			if err != nil {
				return nil, err
			}
			w[j] = orig - float32(h)
			down, err := eval()
			if err != nil {
				return nil, err
			}
			w[j] = orig
			num := (up - down) / (2 * h)
			a := float64(analytic[i][j])
			res.Analytic = append(res.Analytic, a)
			res.Numeric = append(res.Numeric, num)
			diff += (a - num) * (a - num)
			na += a * a
			nn += num * num
			res.Checked++
		}
	}
	if na+nn == 0 {
		return nil, fmt.Errorf("gradcheck: every sampled gradient is zero; the check would prove nothing")
	}
	res.RelErr = math.Sqrt(diff) / (math.Sqrt(na) + math.Sqrt(nn))
	return res, nil
}
