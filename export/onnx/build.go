package onnx

import (
	"fmt"
	"slices"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/graph"
	"github.com/hourglass-ml/hourglass/models"
)

// builder collects the nodes and initializers of one graph. It reads the
// weights from the model's parameters by the names models/ gives them and
// records which it used, so that a layer added to a kind without a matching
// change here fails the export instead of being left out silently.
type builder struct {
	spec  models.Spec
	ps    *graph.Params
	g     graphProto
	names map[string]bool
	used  map[string]bool
}

// reservedNames are the graph's input and output names, kept from inner
// values.
func reservedNames() []string {
	return []string{"input", "code", "logvar", "reconstruction", "reconstruction_raw", "score"}
}

func newBuilder(m models.Model) *builder {
	b := &builder{spec: m.Spec(), ps: m.Params(), names: map[string]bool{}, used: map[string]bool{}}
	for _, n := range reservedNames() {
		b.names[n] = true
	}
	return b
}

// fresh is a value name not used before: base, else base_2, base_3, ….
func (b *builder) fresh(base string) string {
	name := base
	for i := 2; b.names[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	b.names[name] = true
	return name
}

// op adds a node with one output named after out and returns that name.
func (b *builder) op(opType string, inputs []string, out string, attrs ...attribute) string {
	name := b.fresh(out)
	b.g.nodes = append(b.g.nodes, nodeProto{inputs: inputs, outputs: []string{name}, name: name, opType: opType, attrs: attrs})
	return name
}

func (b *builder) constFloat(base string, dims []int, data []float32) string {
	name := b.fresh(base)
	b.g.initializers = append(b.g.initializers, floatTensor(name, dims, data))
	return name
}

func (b *builder) constInt64(base string, data []int64) string {
	name := b.fresh(base)
	b.g.initializers = append(b.g.initializers, int64Tensor(name, []int{len(data)}, data))
	return name
}

// param adds the model parameter name as an initializer of that name,
// checking that it has the shape the layer needs.
func (b *builder) param(name string, shape ...int) (string, error) {
	p, ok := b.ps.Get(name)
	if !ok {
		return "", fmt.Errorf("model %s has no parameter %q: the exporter is out of step with models/", b.spec.Kind, name)
	}
	if !slices.Equal(p.Shape, shape) {
		return "", fmt.Errorf("model %s: parameter %q has shape %v, want %v for its spec", b.spec.Kind, name, p.Shape, shape)
	}
	b.used[name] = true
	b.names[name] = true
	b.g.initializers = append(b.g.initializers, floatTensor(name, p.Shape, p.Data()))
	return name, nil
}

// checkAllUsed reports a parameter that no node reads.
func (b *builder) checkAllUsed() error {
	for _, p := range b.ps.List() {
		if !b.used[p.Name] {
			return fmt.Errorf("model %s: parameter %q is not part of the exported graph: the exporter is out of step with models/", b.spec.Kind, p.Name)
		}
	}
	return nil
}

func (b *builder) act(x, prefix string, a graph.Activation) (string, error) {
	switch a {
	case graph.ReLU:
		return b.op("Relu", []string{x}, prefix+"/relu"), nil
	case graph.Sigmoid:
		return b.op("Sigmoid", []string{x}, prefix+"/sigmoid"), nil
	case graph.Tanh:
		return b.op("Tanh", []string{x}, prefix+"/tanh"), nil
	case graph.Identity, "":
		return x, nil
	}
	return "", fmt.Errorf("activation %q of layer %s has no ONNX op here (valid: relu, sigmoid, tanh, identity)", a, prefix)
}

// dense is graph.Dense: act(x·W + b) with W stored in×out, as one Gemm.
func (b *builder) dense(x, name string, in, out int, a graph.Activation) (string, error) {
	w, err := b.param(name+".w", in, out)
	if err != nil {
		return "", err
	}
	bias, err := b.param(name+".b", out)
	if err != nil {
		return "", err
	}
	return b.act(b.op("Gemm", []string{x, w, bias}, name+"/gemm"), name, a)
}

// mlp is graph.MLP: layers name.0, name.1, … over sizes, the last with
// activation last.
func (b *builder) mlp(x, name string, sizes []int, act, last graph.Activation) (string, error) {
	var err error
	for i := 0; i+1 < len(sizes); i++ {
		a := act
		if i+2 == len(sizes) {
			a = last
		}
		if x, err = b.dense(x, fmt.Sprintf("%s.%d", name, i), sizes[i], sizes[i+1], a); err != nil {
			return "", err
		}
	}
	return x, nil
}

// conv is graph.Conv2d with a 3×3 kernel and padding 1: a cross-correlation
// over NCHW with W stored OutC×InC×K×K, ONNX's own layout.
func (b *builder) conv(x, name string, inC, outC, stride int, a graph.Activation) (string, error) {
	w, err := b.param(name+".w", outC, inC, 3, 3)
	if err != nil {
		return "", err
	}
	bias, err := b.param(name+".b", outC)
	if err != nil {
		return "", err
	}
	y := b.op("Conv", []string{x, w, bias}, name+"/conv",
		attribute{name: "kernel_shape", typ: attrInts, ints: []int64{3, 3}},
		attribute{name: "pads", typ: attrInts, ints: []int64{1, 1, 1, 1}},
		attribute{name: "strides", typ: attrInts, ints: []int64{int64(stride), int64(stride)}})
	return b.act(y, name, a)
}

// reshape gives x the shape batch×rest.
func (b *builder) reshape(x, name string, rest ...int) string {
	shape := append([]int64{-1}, int64s(rest)...)
	return b.op("Reshape", []string{x, b.constInt64(name+"/shape", shape)}, name+"/reshape")
}

// upsample is graph.Upsample: output pixel (i, j) copies input pixel
// (⌊i·H/h⌋, ⌊j·W/w⌋). Two Gathers with those indices reproduce it exactly,
// where Resize's float coordinate arithmetic could round a boundary pixel
// the other way for sizes that are not multiples.
func (b *builder) upsample(x, name string, inH, inW, outH, outW int) string {
	rows, cols := make([]int64, outH), make([]int64, outW)
	for i := range rows {
		rows[i] = int64(i * inH / outH)
	}
	for j := range cols {
		cols[j] = int64(j * inW / outW)
	}
	x = b.op("Gather", []string{x, b.constInt64(name+"/rows", rows)}, name+"/gather_rows", attribute{name: "axis", typ: attrInt, i: 2})
	return b.op("Gather", []string{x, b.constInt64(name+"/cols", cols)}, name+"/gather_cols", attribute{name: "axis", typ: attrInt, i: 3})
}

// convSizes are the spatial sizes entering each stride-2 stage of the conv
// encoder, the last entry being its output's: ⌊(n + 2 − 3)/2⌋ + 1.
func convSizes(spec models.Spec) [][2]int {
	s := [][2]int{{spec.InputShape[1], spec.InputShape[2]}}
	for range spec.Channels {
		last := s[len(s)-1]
		s = append(s, [2]int{(last[0]-1)/2 + 1, (last[1]-1)/2 + 1})
	}
	return s
}

// activations parses the spec's hidden and output activations.
func activations(spec models.Spec) (act, out graph.Activation, err error) {
	if act, err = graph.ParseActivation(spec.Activation); err != nil {
		return "", "", fmt.Errorf("model %s: %w", spec.Kind, err)
	}
	if out, err = graph.ParseActivation(spec.Output); err != nil {
		return "", "", fmt.Errorf("model %s output: %w", spec.Kind, err)
	}
	return act, out, nil
}

// encode builds the encoder of each kind, as models/ defines it, from x
// (batch×C·H·W) to the code; logvar is set for the variational kinds.
func (b *builder) encode(x string) (code, logvar string, err error) {
	spec := b.spec
	act, _, err := activations(spec)
	if err != nil {
		return "", "", err
	}
	var h string
	var features int
	switch spec.Kind {
	case "basic", "deep", "denoising", "sparse":
		// models.newDenseAE: a linear code for a deep net, the hidden
		// activation for the one-layer basic net; the sparse kind's code
		// is ReLU, or a sigmoid when it targets an activation ρ.
		codeAct := graph.Identity
		if len(spec.Hidden) == 0 {
			codeAct = act
		}
		if spec.Kind == "sparse" {
			codeAct = graph.ReLU
			if spec.Sparsity != nil && spec.Sparsity.Rho > 0 {
				codeAct = graph.Sigmoid
			}
		}
		sizes := append(append([]int{spec.InputDim()}, spec.Hidden...), spec.Latent)
		code, err = b.mlp(x, "encoder", sizes, act, codeAct)
		return code, "", err
	case "vae":
		sizes := append([]int{spec.InputDim()}, spec.Hidden...)
		if len(sizes) < 2 {
			return "", "", fmt.Errorf("model vae: needs at least one hidden layer (hidden)")
		}
		if h, err = b.mlp(x, "encoder", sizes, act, act); err != nil {
			return "", "", err
		}
		features = sizes[len(sizes)-1]
	case "conv", "convvae":
		if h, features, err = b.convEncoder(x, act); err != nil {
			return "", "", err
		}
		if spec.Kind == "conv" {
			code, err = b.dense(h, "encoder.code", features, spec.Latent, graph.Identity)
			return code, "", err
		}
	default:
		return "", "", fmt.Errorf("model kind %q has no ONNX export (valid: %v)", spec.Kind, models.Kinds())
	}
	if code, err = b.dense(h, "encoder.mu", features, spec.Latent, graph.Identity); err != nil {
		return "", "", err
	}
	if logvar, err = b.dense(h, "encoder.logvar", features, spec.Latent, graph.Identity); err != nil {
		return "", "", err
	}
	return code, logvar, nil
}

// convEncoder is models.convEncoder: stride-2 3×3 convolutions, flattened.
func (b *builder) convEncoder(x string, act graph.Activation) (string, int, error) {
	spec := b.spec
	s := spec.InputShape
	h := b.reshape(x, "encoder/unflatten", s[0], s[1], s[2])
	in := s[0]
	var err error
	for i, out := range spec.Channels {
		if h, err = b.conv(h, fmt.Sprintf("encoder.conv%d", i), in, out, 2, act); err != nil {
			return "", 0, err
		}
		in = out
	}
	last := convSizes(spec)[len(spec.Channels)]
	return b.op("Flatten", []string{h}, "encoder/flatten", attribute{name: "axis", typ: attrInt, i: 1}), in * last[0] * last[1], nil
}

// decode builds the decoder of each kind from codes z (batch×latent) to
// the reconstruction (batch×C·H·W).
func (b *builder) decode(z string) (string, error) {
	spec := b.spec
	act, out, err := activations(spec)
	if err != nil {
		return "", err
	}
	switch spec.Kind {
	case "basic", "deep", "denoising", "sparse", "vae":
		sizes := append(append([]int{spec.InputDim()}, spec.Hidden...), spec.Latent)
		slices.Reverse(sizes)
		return b.mlp(z, "decoder", sizes, act, out)
	case "conv", "convvae":
		return b.convDecoder(z, act, out)
	}
	return "", fmt.Errorf("model kind %q has no ONNX export (valid: %v)", spec.Kind, models.Kinds())
}

// convDecoder is models.convDecoder: Dense → unflatten → (upsample back to
// the encoder's sizes → 3×3 conv)…, the last conv with the output
// activation.
func (b *builder) convDecoder(z string, act, out graph.Activation) (string, error) {
	spec := b.spec
	sizes := convSizes(spec)
	n := len(spec.Channels)
	last := sizes[n]
	h, err := b.dense(z, "decoder.dense", spec.Latent, spec.Channels[n-1]*last[0]*last[1], act)
	if err != nil {
		return "", err
	}
	h = b.reshape(h, "decoder/unflatten", spec.Channels[n-1], last[0], last[1])
	chans := append([]int{spec.InputShape[0]}, spec.Channels...)
	for i := range n {
		from, to := sizes[n-i], sizes[n-1-i]
		h = b.upsample(h, fmt.Sprintf("decoder.up%d", i), from[0], from[1], to[0], to[1])
		a := act
		if i == n-1 {
			a = out
		}
		if h, err = b.conv(h, fmt.Sprintf("decoder.conv%d", i), chans[n-i], chans[n-1-i], 1, a); err != nil {
			return "", err
		}
	}
	return b.op("Flatten", []string{h}, "decoder/flatten", attribute{name: "axis", typ: attrInt, i: 1}), nil
}

// scale is Scaler.ApplySlice, (x − A)·B, in the same float32 operations.
func (b *builder) scale(x string, sc *dataset.Scaler) string {
	dims := []int{len(sc.A)}
	x = b.op("Sub", []string{x, b.constFloat("scaler.a", dims, sc.A)}, "scaler/sub")
	return b.op("Mul", []string{x, b.constFloat("scaler.b", dims, sc.B)}, "scaler/mul")
}

// unscale is Scaler.InvertSlice, x/B + A.
func (b *builder) unscale(x string, sc *dataset.Scaler) string {
	dims := []int{len(sc.A)}
	x = b.op("Div", []string{x, b.constFloat("scaler.inv.b", dims, sc.B)}, "scaler/div")
	return b.op("Add", []string{x, b.constFloat("scaler.inv.a", dims, sc.A)}, "scaler/add")
}

// score is each row's mean squared difference of recon and x, as
// eval.SampleMSE.
func (b *builder) score(recon, x string) string {
	d := b.op("Sub", []string{recon, x}, "score/sub")
	sq := b.op("Mul", []string{d, d}, "score/square")
	return b.op("ReduceMean", []string{sq}, "score/mean",
		attribute{name: "axes", typ: attrInts, ints: []int64{1}},
		attribute{name: "keepdims", typ: attrInt, i: 0})
}

// output renames value v to the graph output name with an Identity node
// (ONNX outputs are values, and a value has one producer) and declares it.
func (b *builder) output(v, name string, dims ...dim) {
	b.g.nodes = append(b.g.nodes, nodeProto{inputs: []string{v}, outputs: []string{name}, name: name + "/identity", opType: "Identity"})
	b.g.output = append(b.g.output, valueInfo{name: name, dims: dims})
}

func (b *builder) input(name string, dims ...dim) string {
	b.g.inputs = append(b.g.inputs, valueInfo{name: name, dims: dims})
	return name
}
