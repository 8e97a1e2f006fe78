package models

import (
	"fmt"
	"strconv"
	"strings"
)

// Output activations the -output flag accepts.
const (
	OutputAuto    = "auto"    // sigmoid for data in [0,1], linear otherwise
	OutputSigmoid = "sigmoid" // reconstructions in (0,1)
	OutputLinear  = "linear"  // identity: reconstructions of any sign and size
)

// OutputChoices lists the -output values.
func OutputChoices() []string { return []string{OutputAuto, OutputSigmoid, OutputLinear} }

// IsTabular reports whether inputs of shape C,H,W are table rows (1×1×W)
// rather than pictures.
func IsTabular(inputShape []int) bool {
	return len(inputShape) == 3 && inputShape[0] == 1 && inputShape[1] == 1
}

// TabularShape sizes a dense network for rows of width features, instead of
// the kinds' 784-pixel defaults (128-64-32 would be wider than most tables).
// The code is a quarter of the width, rounded up and at most width-1, so the
// network must compress; latent > 0 keeps a code size the user chose.
//
// The encoder's first hidden layer is wide: twice the width, at least 32
// and at most 256, so that the ReLU layers can follow the data's shape
// (a narrow one, two thirds of the width, fitted a linear subspace worse
// than PCA does); but no wider than a quarter of the training rows, when
// rows > 0, so that a few dozen rows do not train a network that memorises
// them; and never narrower than two thirds of the width. A second hidden
// layer sits halfway to the code; layers no wider than the code are
// dropped. For 12 features and 378 rows: 12-32-18-3; for 30 and 225:
// 30-56-32-8; for 13 and 45: 13-11-8-4; for 4 and 32: 4-8-5-1. The
// variational kind gets only the first hidden layer (its code is a mean
// and a variance). The basic kind has no hidden layer.
func TabularShape(kind string, width, rows, latent int) (hidden []int, code int) {
	code = latent
	if code <= 0 {
		code = max(1, min(width-1, (width+3)/4))
	}
	if kind == "basic" {
		return nil, code
	}
	wide := min(max(32, 2*width), 256)
	if rows > 0 {
		wide = min(wide, rows/4)
	}
	h1 := max(code+1, (2*width+2)/3, wide)
	h2 := max(code+1, (h1+code+1)/2)
	hidden = []int{h1}
	if kind != "vae" && h2 < h1 {
		hidden = append(hidden, h2)
	}
	return hidden, code
}

// ParseHidden parses a comma-separated list of positive layer widths
// ("16,8"); the empty string is no list.
func ParseHidden(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-hidden %q: want comma-separated positive layer widths such as 16,8 (encoder side; the decoder mirrors them)", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// outputActivation is the activation name a spec stores for an -output
// choice; unitRange says whether the (scaled) data lies in [0,1], which
// decides auto.
func outputActivation(choice string, unitRange bool) (string, error) {
	switch choice {
	case OutputAuto, "":
		if unitRange {
			return OutputSigmoid, nil
		}
		return "identity", nil
	case OutputSigmoid:
		return OutputSigmoid, nil
	case OutputLinear, "identity":
		return "identity", nil
	}
	return "", fmt.Errorf("-output %q: valid: %s", choice, strings.Join(OutputChoices(), ", "))
}
