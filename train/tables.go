package train

// TableSteps is about how many optimizer steps a table trains for when the
// epochs are not given: the image default of 20 epochs is a handful of
// steps on a few hundred rows.
const TableSteps = 2000

// TableBatch is the default batch for a table of n training rows: an
// eighth of the rows, 8 to 64 (n when fewer).
func TableBatch(n int) int { return min(max(n/8, 8), 64, n) }

// TableEpochs is the default number of epochs for a table of n training
// rows in batches of batch: about TableSteps steps, 20 to 500 epochs.
func TableEpochs(n, batch int) int {
	perEpoch := (n + batch - 1) / batch
	return min(max((TableSteps+perEpoch-1)/perEpoch, 20), 500)
}
