//go:build openblas

package openblas

/*
#cgo LDFLAGS: -lopenblas
char* openblas_get_corename(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
*/
import "C"

// CoreName is the CPU core OpenBLAS selected at load time, e.g. "Haswell" or
// "SkylakeX" (OPENBLAS_CORETYPE overrides it).
func CoreName() string { return C.GoString(C.openblas_get_corename()) }

// NumThreads is OpenBLAS's thread count (OPENBLAS_NUM_THREADS sets it).
func NumThreads() int { return int(C.openblas_get_num_threads()) }

// SetNumThreads sets OpenBLAS's thread count for the calls that follow.
func SetNumThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
