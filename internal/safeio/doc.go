// Package safeio opens and reads input files defensively: only regular
// files, never blocking on a FIFO, with reads bounded by the file's stated
// size and by a caller's limit, so a hostile path (/dev/zero, a FIFO, a
// file that grows while read) ends in a one-line error instead of a hang
// or an out-of-memory crash.
package safeio
