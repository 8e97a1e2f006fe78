package onnx

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hourglass-ml/hourglass/dataset"
	"github.com/hourglass-ml/hourglass/models"
	"github.com/hourglass-ml/hourglass/train"
)

// Part selects which graph Write emits.
type Part string

// The graphs a model can be exported as.
const (
	// PartFull maps raw rows to reconstruction, code (and logvar), score
	// and, with a scaler, reconstruction_raw.
	PartFull Part = "full"
	// PartEncoder maps raw rows to code (and logvar).
	PartEncoder Part = "encoder"
	// PartDecoder maps codes to reconstruction (and reconstruction_raw).
	PartDecoder Part = "decoder"
)

// Parts lists the valid Options.Part values.
func Parts() []Part { return []Part{PartFull, PartEncoder, PartDecoder} }

// batchDim is the symbolic batch size of every input and output.
const batchDim = "batch"

// Options tunes an export. The zero value exports the full graph.
type Options struct {
	// Part is the graph to write; empty means PartFull.
	Part Part
	// Name is the graph's name; empty means "hourglass_<kind>_<part>".
	Name string
}

// Write encodes m as an ONNX model (IR 8, opset 13) to w. sc, when not nil
// and not of kind "none", is folded in so that the graph takes features in
// data units; it must have one (A, B) pair per input feature.
func Write(w io.Writer, m models.Model, sc *dataset.Scaler, opts Options) error {
	mp, err := build(m, sc, opts)
	if err != nil {
		return err
	}
	if _, err := w.Write(mp.marshal()); err != nil {
		return fmt.Errorf("writing the ONNX model: %w", err)
	}
	return nil
}

func build(m models.Model, sc *dataset.Scaler, opts Options) (*modelProto, error) {
	if m == nil {
		return nil, fmt.Errorf("onnx export: no model given")
	}
	spec := m.Spec()
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("onnx export: %w", err)
	}
	if sc != nil && sc.Clip > 0 {
		return nil, fmt.Errorf("onnx export: the model's scaler clips scaled values to ±%g (-clip), which the exporter does not write yet; export a model trained without -clip", sc.Clip)
	}
	part := opts.Part
	if part == "" {
		part = PartFull
	}
	if part != PartFull && part != PartEncoder && part != PartDecoder {
		return nil, fmt.Errorf("onnx export: unknown part %q (valid: full, encoder, decoder)", part)
	}
	if sc != nil {
		if err := sc.Validate(); err != nil {
			return nil, fmt.Errorf("onnx export: %w", err)
		}
		if sc.Kind == "none" {
			sc = nil
		} else if len(sc.A) != spec.InputDim() {
			return nil, fmt.Errorf("onnx export: scaler %s has %d features but the %s model takes %d: pass the scaler fitted for this model", sc.Kind, len(sc.A), spec.Kind, spec.InputDim())
		}
	}
	b := newBuilder(m)
	batch := dim{param: batchDim}
	rows := []dim{batch, {value: int64(spec.InputDim())}}
	codes := []dim{batch, {value: int64(spec.Latent)}}
	_, variational := m.(models.Variational)

	if part == PartDecoder {
		recon, err := b.decode(b.input("code", codes...))
		if err != nil {
			return nil, fmt.Errorf("onnx export: %w", err)
		}
		b.output(recon, "reconstruction", rows...)
		if sc != nil {
			b.output(b.unscale(recon, sc), "reconstruction_raw", rows...)
		}
	} else {
		x := b.input("input", rows...)
		if sc != nil {
			x = b.scale(x, sc)
		}
		code, logvar, err := b.encode(x)
		if err != nil {
			return nil, fmt.Errorf("onnx export: %w", err)
		}
		var recon string
		if part == PartFull {
			if recon, err = b.decode(code); err != nil {
				return nil, fmt.Errorf("onnx export: %w", err)
			}
			b.output(recon, "reconstruction", rows...)
		}
		b.output(code, "code", codes...)
		if variational {
			b.output(logvar, "logvar", codes...)
		}
		if part == PartFull {
			b.output(b.score(recon, x), "score", batch)
			if sc != nil {
				b.output(b.unscale(recon, sc), "reconstruction_raw", rows...)
			}
			if err := b.checkAllUsed(); err != nil {
				return nil, fmt.Errorf("onnx export: %w", err)
			}
		}
	}

	b.g.name = opts.Name
	if b.g.name == "" {
		b.g.name = fmt.Sprintf("hourglass_%s_%s", spec.Kind, part)
	}
	b.g.doc = graphDoc(spec, part, sc)
	meta := [][2]string{{"hourglass.kind", spec.Kind}, {"hourglass.part", string(part)}, {"hourglass.spec", spec.JSON()}}
	if sc != nil {
		js, err := json.Marshal(sc)
		if err != nil {
			return nil, fmt.Errorf("onnx export: encoding the scaler: %w", err)
		}
		meta = append(meta, [2]string{"hourglass.scaler", string(js)})
	}
	return &modelProto{producer: "hourglass", version: "1", graph: b.g, meta: meta,
		doc: "hourglass " + spec.Kind + " autoencoder"}, nil
}

// graphDoc says what the graph's inputs and outputs hold, for whoever
// opens the file in a viewer.
func graphDoc(spec models.Spec, part Part, sc *dataset.Scaler) string {
	var lines []string
	units := "the model's units"
	if sc != nil {
		units = "data units; the " + sc.Kind + " scaler is applied first"
	}
	if part == PartDecoder {
		lines = append(lines, fmt.Sprintf("code: batch×%d codes", spec.Latent))
	} else {
		lines = append(lines, fmt.Sprintf("input: batch×%d rows (%v images flattened), in %s", spec.InputDim(), spec.InputShape, units))
	}
	if part != PartEncoder {
		lines = append(lines, "reconstruction: in the scaled units the model works in, as hourglass reports it")
	}
	if part == PartFull {
		lines = append(lines, "score: each row's reconstruction MSE in scaled units (hourglass's anomaly score)")
	}
	if sc != nil && part != PartEncoder {
		lines = append(lines, "reconstruction_raw: the reconstruction in data units")
	}
	if part != PartDecoder {
		if k, _ := models.LookupKind(spec.Kind); k.Variational {
			lines = append(lines, "code: the posterior mean μ (z = μ at inference); logvar: log σ²")
		} else {
			lines = append(lines, "code: the encoder's output")
		}
	}
	return strings.Join(lines, "\n")
}

// ExportFile loads the checkpoint at checkpointPath with the scaler
// stored in it (if any) and writes it as an ONNX model to outPath,
// replacing that file atomically.
func ExportFile(checkpointPath, outPath string, opts Options) error {
	ld, err := train.LoadCheckpoint(checkpointPath)
	if err != nil {
		return fmt.Errorf("onnx export: %w", err)
	}
	sc, err := ld.Scaler()
	if err != nil {
		return fmt.Errorf("onnx export: %w", err)
	}
	mp, err := build(ld.Model, sc, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", checkpointPath, err)
	}
	im, err := ld.Imputer()
	if err != nil {
		return fmt.Errorf("onnx export: %w", err)
	}
	if im != nil {
		// The graph takes complete rows; the fill values travel with it so
		// that whoever feeds it can fill missing values as training did.
		js, err := json.Marshal(im)
		if err != nil {
			return fmt.Errorf("onnx export: encoding the imputer: %w", err)
		}
		mp.meta = append(mp.meta, [2]string{"hourglass.imputer", string(js)})
		mp.graph.doc += "\nMissing values are not filled by the graph: replace them with the hourglass.imputer metadata's fill values (train -impute) first."
	}
	return writeAtomic(outPath, mp.marshal())
}

// writeAtomic writes data to a temporary file beside path and renames it
// over path, so that a reader never sees half a model.
func writeAtomic(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("onnx export: creating %s: %w (does its directory exist?)", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("onnx export: writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("onnx export: writing %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("onnx export: writing %s: %w", path, err)
	}
	if err = os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("onnx export: writing %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("onnx export: writing %s: %w", path, err)
	}
	return nil
}
