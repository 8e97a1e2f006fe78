package eval

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Block sizes for the distance computation: a test block times a train
// block of dot products fits in cache-friendly scratch (testBlock*trainBlock
// float32 per worker).
const (
	knnTestBlock  = 128
	knnTrainBlock = 2048
)

// KNNAccuracy classifies each test row by majority vote among its k nearest
// training rows (Euclidean distance) and returns the fraction classified
// correctly. Rows are dim float32 values, row-major. Vote ties go to the
// tied label whose member is nearest; distance ties go to the lower training
// index. Squared distances use ||x||² - 2·t·x (||t||² is constant per test
// row) with blocked float32 Gemm, and test blocks are spread over
// GOMAXPROCS goroutines.
func KNNAccuracy(trainX []float32, trainY []int, testX []float32, testY []int, dim, k int) (float64, error) {
	if dim <= 0 {
		return 0, fmt.Errorf("kNN: dim must be positive, got %d", dim)
	}
	if k <= 0 {
		return 0, fmt.Errorf("kNN: k must be positive, got %d", k)
	}
	if len(trainX) != len(trainY)*dim {
		return 0, fmt.Errorf("kNN: trainX has %d values but %d labels × dim %d = %d", len(trainX), len(trainY), dim, len(trainY)*dim)
	}
	if len(testX) != len(testY)*dim {
		return 0, fmt.Errorf("kNN: testX has %d values but %d labels × dim %d = %d", len(testX), len(testY), dim, len(testY)*dim)
	}
	nTrain, nTest := len(trainY), len(testY)
	if nTest == 0 {
		return 0, fmt.Errorf("kNN: no test samples")
	}
	if k > nTrain {
		return 0, fmt.Errorf("kNN: k=%d exceeds the %d training samples; lower k", k, nTrain)
	}

	norms := make([]float32, nTrain)
	for i := range norms {
		var s float32
		for _, v := range trainX[i*dim : (i+1)*dim] {
			s += v * v
		}
		norms[i] = s
	}

	nBlocks := (nTest + knnTestBlock - 1) / knnTestBlock
	workers := min(runtime.GOMAXPROCS(0), nBlocks)
	blocks := make(chan int)
	correct := make([]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kw := newKNNWorker(k)
			for b := range blocks {
				lo := b * knnTestBlock
				hi := min(lo+knnTestBlock, nTest)
				correct[w] += kw.block(trainX, trainY, norms, testX[lo*dim:hi*dim], testY[lo:hi], dim)
			}
		}()
	}
	for b := range nBlocks {
		blocks <- b
	}
	close(blocks)
	wg.Wait()
	total := 0
	for _, c := range correct {
		total += c
	}
	return float64(total) / float64(nTest), nil
}

// knnWorker holds one goroutine's scratch buffers.
type knnWorker struct {
	k      int
	dots   []float32 // testBlock × trainBlock dot products
	dist   []float32 // testBlock × k nearest distances, ascending
	idx    []int     // matching training indices
	counts map[int]int
}

func newKNNWorker(k int) *knnWorker {
	return &knnWorker{
		k:      k,
		dots:   make([]float32, knnTestBlock*knnTrainBlock),
		dist:   make([]float32, knnTestBlock*k),
		idx:    make([]int, knnTestBlock*k),
		counts: make(map[int]int),
	}
}

// block finds the k nearest neighbours of each test row in testX and returns
// how many are classified as their label.
func (kw *knnWorker) block(trainX []float32, trainY []int, norms, testX []float32, testY []int, dim int) int {
	m, k := len(testY), kw.k
	filled := make([]int, m)
	impl := gonum.Implementation{}
	for lo := 0; lo < len(trainY); lo += knnTrainBlock {
		n := min(knnTrainBlock, len(trainY)-lo)
		// dots[i][j] = test_i · train_{lo+j}
		impl.Sgemm(blas.NoTrans, blas.Trans, m, n, dim, 1, testX, dim, trainX[lo*dim:(lo+n)*dim], dim, 0, kw.dots, n)
		for i := range m {
			row := kw.dots[i*n : (i+1)*n]
			dist := kw.dist[i*k : (i+1)*k]
			idx := kw.idx[i*k : (i+1)*k]
			f := filled[i]
			for j, dot := range row {
				d := norms[lo+j] - 2*dot
				if f == k && d >= dist[k-1] {
					continue // not better than the current k-th; equal loses to the lower index
				}
				// Insert after every entry with distance <= d (they have lower indices).
				p := f
				if f == k {
					p = k - 1
				} else {
					f++
				}
				for p > 0 && dist[p-1] > d {
					dist[p], idx[p] = dist[p-1], idx[p-1]
					p--
				}
				dist[p], idx[p] = d, lo+j
			}
			filled[i] = f
		}
	}
	correct := 0
	for i := range m {
		if kw.vote(trainY, kw.idx[i*k:(i+1)*k]) == testY[i] {
			correct++
		}
	}
	return correct
}

// vote returns the majority label among neighbours sorted nearest first;
// among tied labels the one with the nearest member wins.
func (kw *knnWorker) vote(trainY []int, nearest []int) int {
	clear(kw.counts)
	for _, j := range nearest {
		kw.counts[trainY[j]]++
	}
	best, bestCount := 0, 0
	for _, j := range nearest {
		if c := kw.counts[trainY[j]]; c > bestCount {
			best, bestCount = trainY[j], c
		}
	}
	return best
}
