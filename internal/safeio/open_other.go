//go:build !unix

package safeio

// oNonblock is unneeded where FIFOs do not block on open.
const oNonblock = 0
