// Command train is `hourglass train` under its own name, so that
// `go run ./cmd/train` keeps working; see `hourglass help train`.
package main

import (
	"os"

	"github.com/hourglass-ml/hourglass/internal/cli"
	"github.com/hourglass-ml/hourglass/internal/cli/traincli"
)

func main() {
	cli.TuneGC()
	os.Exit(traincli.Run("train", os.Args[1:], os.Stdout, os.Stderr))
}
