package hourglass_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/hourglass-ml/hourglass"
)

// Train the deep autoencoder on part of the embedded Fashion-MNIST sample
// and save it for inference.
func ExampleTrain() {
	train, _, err := hourglass.LoadData("sample")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "hourglass-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	m, hist, err := hourglass.Train(context.Background(), train.Head(512), hourglass.Config{
		Kind: "deep", Epochs: 2, OutDir: dir,
		Callbacks: []hourglass.Callback{func(e hourglass.Epoch) error {
			fmt.Printf("epoch %d done\n", e.Epoch)
			return nil
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, hasThreshold := m.Threshold()
	fmt.Printf("%s: %d values → %d-d code, %d epochs, threshold stored: %v\n",
		m.Spec().Kind, m.InputDim(), m.CodeDim(), len(hist.Epochs), hasThreshold)
	_, err = os.Stat(filepath.Join(dir, hourglass.ModelFile))
	fmt.Println("saved:", err == nil)
	// Output:
	// epoch 1 done
	// epoch 2 done
	// deep: 784 values → 32-d code, 2 epochs, threshold stored: true
	// saved: true
}

// Load a saved model and score new samples with it.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "hourglass-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	train, test, err := hourglass.LoadData("sample")
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := hourglass.Train(context.Background(), train.Head(512), hourglass.Config{Epochs: 1, OutDir: dir}); err != nil {
		log.Fatal(err)
	}

	m, err := hourglass.Load(filepath.Join(dir, hourglass.ModelFile))
	if err != nil {
		log.Fatal(err)
	}
	three := test.X[:3*m.InputDim()] // three test images, one after another
	scores, err := m.Score(three)
	if err != nil {
		log.Fatal(err)
	}
	codes, err := m.Encode(three)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(scores), "scores,", len(codes)/m.CodeDim(), "codes of", m.CodeDim(), "values")
	_, err = m.Score(three[:10])
	fmt.Println("error:", err)
	// Output:
	// 3 scores, 3 codes of 32 values
	// error: input has 10 values, not a positive number of samples of 784 values ([1 28 28])
}

// A detector inside an http.Handler: fitted once, it scores concurrent
// requests with the threshold it stored.
func Example_httpHandler() {
	// A table: 400 rows of 4 features that follow one pattern.
	rows := make([]float32, 0, 400*4)
	for i := range 400 {
		t := float32(i%40) / 40
		rows = append(rows, t, 2*t, 1-t, 0.5+t/2)
	}
	data, err := hourglass.NewDataset("sensors", rows, 4)
	if err != nil {
		log.Fatal(err)
	}
	det := hourglass.NewDetector(hourglass.Config{Kind: "basic", Latent: 2, Epochs: 30, Batch: 32}, 0.01)
	if err := det.Fit(context.Background(), data); err != nil {
		log.Fatal(err)
	}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Rows [][]float32 }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var flat []float32
		for _, row := range req.Rows {
			flat = append(flat, row...)
		}
		flags, err := det.Predict(flat)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string][]bool{"anomaly": flags})
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()

	body := `{"Rows": [[0.5, 1.0, 0.5, 0.75], [0.9, 0.1, 0.9, 0.1]]}`
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string][]bool
	json.NewDecoder(resp.Body).Decode(&out)
	fmt.Println(resp.StatusCode, out["anomaly"])
	// Output:
	// 200 [false true]
}
