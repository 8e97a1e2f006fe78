// Command hourglass trains autoencoders and puts them to work: one binary
// with a subcommand per job.
//
//	go install github.com/hourglass-ml/hourglass/cmd/hourglass@latest
//	hourglass train                     # deep autoencoder on the embedded sample
//	hourglass eval -checkpoint runs/deep-…/best.safetensors -task all
//	hourglass export -checkpoint runs/deep-…/best.safetensors -o deep.onnx
//	hourglass version
//	hourglass help train
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/hourglass-ml/hourglass/internal/cli"
	"github.com/hourglass-ml/hourglass/internal/cli/evalcli"
	"github.com/hourglass-ml/hourglass/internal/cli/exportcli"
	"github.com/hourglass-ml/hourglass/internal/cli/servecli"
	"github.com/hourglass-ml/hourglass/internal/cli/traincli"
)

func main() {
	cli.TuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand: run gets the arguments after its name.
type command struct {
	name, summary string
	run           func(prog string, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"train", "train an autoencoder into a run directory", traincli.Run},
		{"eval", "use a trained model: reconstruction, denoising, anomalies, features, PCA, samples, report", evalcli.Run},
		{"export", "write a checkpoint as ONNX, or as weights only for inference", exportcli.Run},
		{"serve", "serve checkpoints over HTTP: score, encode, reconstruct, metrics", servecli.Run},
		{"version", "print the version, commit and Go version", func(_ string, args []string, stdout, stderr io.Writer) int {
			if len(args) > 0 {
				fmt.Fprintf(stderr, "hourglass version: takes no arguments\n")
				return cli.ExitUsage
			}
			fmt.Fprintln(stdout, cli.Version())
			return cli.ExitOK
		}},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "hourglass trains autoencoders on Gorgonia graphs and puts them to work.\n\nUsage: hourglass <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-9s %s\n", "help", "show this text, or a command's flags: hourglass help train")
	fmt.Fprintf(w, "\nEach command lists its flags with -h.\n\n%s\n", cli.ExitCodesHelp)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return cli.ExitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			usage(stdout)
			return cli.ExitOK
		}
		name, rest = rest[0], []string{"-h"}
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run("hourglass "+name, rest, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "hourglass: unknown command %q (see hourglass help)\n", name)
	return cli.ExitUsage
}
