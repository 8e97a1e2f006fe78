package graph_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hourglass-ml/hourglass/graph"
)

// Graphs built from many goroutines over one Params each get their own
// node, whose tensor is a header over the parameter's shared backing slice
// (run with -race: Node, Nodes, Forget, List and Get all run at once).
func TestParamsConcurrentNodes(t *testing.T) {
	ps := graph.NewParams()
	rng := rand.New(rand.NewPCG(1, 2))
	w, err := ps.New("w", []int{3, 4}, graph.GlorotUniform, 3, 4, rng)
	require.NoError(t, err)
	b, err := ps.New("b", []int{4}, graph.Zeros, 3, 4, rng)
	require.NoError(t, err)

	const goroutines = 32
	var wg sync.WaitGroup
	errs := make([]error, goroutines)
	for i := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := G.NewGraph()
			defer ps.Forget(g)
			nw, nb := ps.Node(g, w), ps.Node(g, b)
			if ps.Node(g, w) != nw {
				errs[i] = fmt.Errorf("goroutine %d: second Node call made a new node", i)
				return
			}
			nodes, params := ps.Nodes(g)
			if len(nodes) != 2 || nodes[0] != nw || nodes[1] != nb || params[0] != w || params[1] != b {
				errs[i] = fmt.Errorf("goroutine %d: Nodes = %v %v", i, nodes, params)
				return
			}
			if got := nw.Value().Data().([]float32); &got[0] != &w.Data()[0] {
				errs[i] = fmt.Errorf("goroutine %d: node value does not share the parameter's backing slice", i)
				return
			}
			if len(ps.List()) != 2 || ps.Count() != 16 {
				errs[i] = fmt.Errorf("goroutine %d: List %d, Count %d", i, len(ps.List()), ps.Count())
			}
			if _, ok := ps.Get("w"); !ok {
				errs[i] = fmt.Errorf("goroutine %d: Get(w) failed", i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
	// Each graph had its own tensor header: the parameter's own tensor is
	// never bound to a node, so no machine sets its engine.
	g := G.NewGraph()
	assert.NotSame(t, w.Value, ps.Node(g, w).Value().(*tensor.Dense))
}
