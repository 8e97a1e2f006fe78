// Command eval is `hourglass eval` under its own name, so that
// `go run ./cmd/eval` keeps working; see `hourglass help eval`.
package main

import (
	"os"

	"github.com/hourglass-ml/hourglass/internal/cli"
	"github.com/hourglass-ml/hourglass/internal/cli/evalcli"
)

func main() {
	cli.TuneGC()
	os.Exit(evalcli.Run("eval", os.Args[1:], os.Stdout, os.Stderr))
}
