//go:build !cuda

package device

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestParseDevice(t *testing.T) {
	tests := []struct {
		in      string
		want    Device
		wantErr string
	}{
		{in: "cpu", want: CPU},
		{in: " CPU ", want: CPU},
		{in: "cuda", wantErr: "built without CUDA support; rebuild it with: go build -tags cuda ./cmd/... (needs CUDA 11.8 + cuDNN 8, see docker/README.md)"},
		{in: "CUDA", wantErr: "built without CUDA support"},
		{in: "gpu", wantErr: `unknown device "gpu": valid devices are "cpu" and "cuda" (use "cuda"`},
		{in: "tpu", wantErr: `unknown device "tpu": valid devices are "cpu" and "cuda"`},
		{in: "", wantErr: `unknown device "": valid devices are "cpu" and "cuda"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDevice(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseDeviceCUDAIsErrNoCUDA(t *testing.T) {
	_, err := ParseDevice("cuda")
	require.ErrorIs(t, err, ErrNoCUDA)
	assert.Equal(t, "this binary was built without CUDA support; rebuild it with: go build -tags cuda ./cmd/... "+
		"(needs CUDA 11.8 + cuDNN 8, see docker/README.md)", err.Error())
}

func TestCUDAEnabledFalseInDefaultBuild(t *testing.T) {
	assert.False(t, CUDAEnabled())
	assert.Equal(t, CPU, DefaultDevice())
	assert.Equal(t, "cpu", CPU.String())
}

func TestMisplacedTagHint(t *testing.T) {
	tests := []struct {
		name string
		args []string
		hint bool
	}{
		{name: "no args", args: nil},
		{name: "ordinary flags", args: []string{"-device", "cuda", "-epochs=3"}},
		{name: "tags value is not a flag", args: []string{"-out", "tags"}},
		{name: "-tags", args: []string{"-tags", "cuda"}, hint: true},
		{name: "--tags", args: []string{"--tags", "cuda"}, hint: true},
		{name: "-tags=cuda", args: []string{"-epochs", "2", "-tags=cuda"}, hint: true},
		{name: "--tags=cuda", args: []string{"--tags=cuda"}, hint: true},
		{name: "after --", args: []string{"--", "-tags", "cuda"}},
		{name: "-tagsx", args: []string{"-tagsx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MisplacedTagHint(tt.args)
			if !tt.hint {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, "-tags is a flag of the go command, not of this program")
			assert.Contains(t, got, "go run -tags cuda ./cmd/train")
		})
	}
}

func TestNewMachineCPURuns(t *testing.T) {
	g := gorgonia.NewGraph()
	x := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(3), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithBacking([]float32{1, 2, 3}))))
	y := gorgonia.Must(gorgonia.Sum(gorgonia.Must(gorgonia.Mul(x, x))))
	var out gorgonia.Value
	gorgonia.Read(y, &out)

	vm, err := NewMachine(g, CPU)
	require.NoError(t, err)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	assert.InDelta(t, float32(14), out.Data().(float32), 1e-6)
}

func TestNewMachineErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	_, err := NewMachine(nil, CPU)
	require.ErrorContains(t, err, "graph is nil")

	_, err = NewMachine(g, CUDA)
	require.ErrorIs(t, err, ErrNoCUDA)

	_, err = NewMachine(g, Device("tpu"))
	require.ErrorContains(t, err, `unknown device "tpu"`)
}

func TestNewMachineTurnsGorgoniaPanicIntoError(t *testing.T) {
	// gorgonia.NewTapeMachine panics on an empty graph ("Cannot compile an
	// empty graph"); NewMachine must return that as an error.
	vm, err := NewMachine(gorgonia.NewGraph(), CPU)
	require.Error(t, err)
	assert.Nil(t, vm)
	assert.Contains(t, err.Error(), "new machine on cpu")
	assert.Contains(t, err.Error(), "Cannot compile an empty graph")
}
