package train

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hourglass-ml/hourglass/checkpoint"
	"github.com/hourglass-ml/hourglass/models"
)

// Metadata keys of an hourglass checkpoint.
const (
	metaFormat = "format"
	metaSpec   = "spec"
	metaState  = "state"
	formatV1   = "hourglass/1"
	optimPfx   = "optim/"
)

// State is the training position stored beside the weights.
type State struct {
	Epoch       int     `json:"epoch"`
	Step        int     `json:"step"`
	Seed        uint64  `json:"seed"`
	LR          float64 `json:"lr"`
	Batch       int     `json:"batch"`
	Optimizer   string  `json:"optimizer"`
	BestEpoch   int     `json:"best_epoch"`
	BestValLoss float64 `json:"best_val_loss"`
}

// SaveCheckpoint writes m's weights, the optimizer's buffers and st to path
// as one .safetensors file, atomically.
func SaveCheckpoint(path string, m models.Model, opt Optimizer, st State) error {
	f := &checkpoint.File{Metadata: map[string]string{metaFormat: formatV1, metaSpec: m.Spec().JSON()}}
	for _, p := range m.Params().List() {
		f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: p.Name, Shape: p.Shape, Data: p.Data()})
	}
	if opt != nil {
		st.Optimizer = opt.Name()
		state := opt.State()
		for _, k := range sortedKeys(state) {
			f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: optimPfx + k, Shape: []int{len(state[k])}, Data: state[k]})
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encoding training state: %w", err)
	}
	f.Metadata[metaState] = string(b)
	if err := checkpoint.Save(path, f); err != nil {
		return fmt.Errorf("saving checkpoint: %w", err)
	}
	return nil
}

// Loaded is a checkpoint read back: the rebuilt model, the training state
// and the optimizer buffers.
type Loaded struct {
	Model models.Model
	State State
	Optim map[string][]float32
}

// LoadCheckpoint rebuilds the model stored at path and fills its weights,
// checking every tensor against the model's spec.
func LoadCheckpoint(path string) (*Loaded, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	if f.Metadata[metaFormat] != formatV1 {
		return nil, fmt.Errorf("%s: not an hourglass checkpoint (format %q, want %q)", path, f.Metadata[metaFormat], formatV1)
	}
	spec, err := models.ParseSpec(f.Metadata[metaSpec])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	m, err := models.New(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := &Loaded{Model: m, Optim: map[string][]float32{}}
	if s := f.Metadata[metaState]; s != "" {
		if err := json.Unmarshal([]byte(s), &out.State); err != nil {
			return nil, fmt.Errorf("%s: training state: %w", path, err)
		}
	}
	seen := map[string]bool{}
	for _, t := range f.Tensors {
		if k, ok := strings.CutPrefix(t.Name, optimPfx); ok {
			out.Optim[k] = t.Data
			continue
		}
		p, ok := m.Params().Get(t.Name)
		if !ok {
			return nil, fmt.Errorf("%s: tensor %q is not a parameter of a %s model", path, t.Name, spec.Kind)
		}
		if !slices.Equal(p.Shape, t.Shape) {
			return nil, fmt.Errorf("%s: tensor %q has shape %v but the %s model's spec needs %v", path, t.Name, t.Shape, spec.Kind, p.Shape)
		}
		copy(p.Data(), t.Data)
		seen[t.Name] = true
	}
	for _, p := range m.Params().List() {
		if !seen[p.Name] {
			return nil, fmt.Errorf("%s: parameter %q of the %s model is missing", path, p.Name, spec.Kind)
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
