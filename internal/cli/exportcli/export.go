// Package exportcli is the export command (hourglass export): it writes a
// checkpoint as an ONNX model for existing engines, or as a weights-only
// safetensors file (spec, scaler and threshold kept; optimizer state
// dropped) to deploy or share.
package exportcli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hourglass-ml/hourglass"
	"github.com/hourglass-ml/hourglass/export/onnx"
	"github.com/hourglass-ml/hourglass/internal/cli"
)

var help = cli.Help{
	Usage: "hourglass export -checkpoint FILE -o OUT [-format onnx|safetensors] [-part full|encoder|decoder]",
	Summary: "Writes a checkpoint for use outside a training run: -format onnx for ONNX Runtime\n" +
		"and other engines (the fitted scaler folded in, so the model takes raw features),\n" +
		"-format safetensors for a weights-only file a third the size of a training checkpoint.",
	Groups: []cli.Group{
		{Title: "Input and output", Flags: []string{"checkpoint", "o", "format"}},
		{Title: "ONNX", Flags: []string{"part"}},
	},
	Examples: []string{
		"hourglass export -checkpoint runs/deep-x/best.safetensors -o deep.onnx",
		"hourglass export -checkpoint runs/vae-x/best.safetensors -o vae-encoder.onnx -part encoder",
		"hourglass export -checkpoint runs/deep-x/best.safetensors -o deep.safetensors -format safetensors",
	},
}

// Run runs the export command with args and returns its exit code.
func Run(prog string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	ckpt := fs.String("checkpoint", "", "checkpoint (.safetensors) to export (required)")
	out := fs.String("o", "", "output file (required)")
	format := fs.String("format", "onnx", "onnx or safetensors (weights only)")
	var parts []string
	for _, p := range onnx.Parts() {
		parts = append(parts, string(p))
	}
	part := fs.String("part", "full", "onnx: the graph to write: "+strings.Join(parts, ", ")+" (full: reconstruction, code and score)")
	err := cli.Parse(fs, args, help, prog, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	if err == nil {
		switch {
		case fs.NArg() > 0:
			err = fmt.Errorf("unexpected argument %q: flags only (see %s -h)", fs.Arg(0), prog)
		case *ckpt == "":
			err = errors.New("-checkpoint is required: the .safetensors file to export")
		case *out == "":
			err = errors.New("-o is required: the file to write")
		case *format != "onnx" && *format != "safetensors":
			err = fmt.Errorf("-format %q: want onnx or safetensors", *format)
		case !slices.Contains(parts, *part):
			err = fmt.Errorf("-part %q: want one of %s", *part, strings.Join(parts, ", "))
		case *format == "safetensors" && *part != "full":
			err = errors.New("-part applies to -format onnx only")
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return cli.ExitUsage
	}
	if *format == "onnx" {
		err = onnx.ExportFile(*ckpt, *out, onnx.Options{Part: onnx.Part(*part)})
	} else {
		var m *hourglass.Model
		if m, err = hourglass.Load(*ckpt); err == nil {
			err = m.Save(*out)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return cli.ExitFail
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return cli.ExitOK
}
