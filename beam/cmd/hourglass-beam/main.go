// Command hourglass-beam scores or encodes sharded data with an hourglass
// checkpoint on Apache Beam: locally (--runner=direct, the default) or on
// Flink, Spark or Dataflow with Beam's usual runner flags.
//
//	hourglass-beam --input 'data/part-*.csv' --checkpoint runs/x/model.safetensors --output out/batch
//	hourglass-beam --runner=flink --endpoint=localhost:8099 --environment_type=LOOPBACK ...
//	hourglass-beam --runner=dataflow --project=P --region=R --temp_location=gs://b/tmp \
//	    --input 'gs://b/in/*.csv' --checkpoint gs://b/model.safetensors --output gs://b/out/batch
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/hourglass-ml/hourglass/beam/pipeline"
)

type flags struct {
	input, format, checkpoint, output, codes, threshold *string
	shards, chunk                                       *int
}

// define registers the command's flags on the standard flag set, which
// Beam's runner flags (--runner, --endpoint, --project, …) also use.
func define() flags {
	d := pipeline.DefaultOptions()
	return flags{
		input:      flag.String("input", "", "glob of input shards: .csv, .npy or *-idx3-ubyte files, optionally .gz (local or gs://)"),
		format:     flag.String("format", "", "input format for every file: csv, npy or idx (default: tell by each file's name)"),
		checkpoint: flag.String("checkpoint", "", "model file from hourglass train (model.safetensors; local or gs://)"),
		output:     flag.String("output", "", "output prefix: writes PREFIX-scores-SSSSS-of-NNNNN.csv (file,row,score,flag)"),
		codes:      flag.String("codes", "", "also write every row's code: csv or npy (PREFIX-codes-SSSSS-of-NNNNN.*)"),
		threshold:  flag.String("threshold", "", "anomaly threshold for the flags (default: the checkpoint's)"),
		shards:     flag.Int("shards", d.Shards, "number of output shards"),
		chunk:      flag.Int("chunk", d.Chunk, "rows scored per model call"),
	}
}

func (f flags) options() (pipeline.Options, error) {
	opt := pipeline.Options{Input: *f.input, Format: *f.format, Checkpoint: *f.checkpoint, Output: *f.output,
		Codes: *f.codes, Shards: *f.shards, Chunk: *f.chunk}
	if *f.threshold != "" {
		v, err := strconv.ParseFloat(*f.threshold, 64)
		if err != nil {
			return opt, fmt.Errorf("--threshold %q: not a number", *f.threshold)
		}
		opt.Threshold = &v
	}
	return opt, nil
}

func run(ctx context.Context, f flags, stdout, stderr io.Writer) int {
	if *runners.Runner == "" {
		*runners.Runner = "direct"
	}
	opt, err := f.options()
	if err != nil {
		fmt.Fprintf(stderr, "hourglass-beam: %v\n", err)
		return 2
	}
	p, s := beam.NewPipelineWithRoot()
	if _, err := pipeline.Build(s, opt); err != nil {
		fmt.Fprintf(stderr, "hourglass-beam: %v\n", err)
		return 2
	}
	res, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		fmt.Fprintf(stderr, "hourglass-beam: %v\n", err)
		return 1
	}
	rows := int64(0)
	if res != nil {
		for _, c := range res.Metrics().AllMetrics().Counters() {
			if c.Key.Name == "rows_scored" {
				rows += c.Committed
			}
		}
	}
	fmt.Fprintf(stdout, "scored %d rows of %s on the %s runner into %s\n", rows, opt.Input, *runners.Runner,
		pipeline.ShardName(opt.Output, "scores", 0, opt.Shards, "csv")+" …")
	return 0
}

func main() {
	f := define()
	flag.Parse()
	// On a remote runner's workers Init runs the worker and does not return.
	beam.Init()
	os.Exit(run(context.Background(), f, os.Stdout, os.Stderr))
}
