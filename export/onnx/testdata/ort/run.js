// Runs ONNX models in ONNX Runtime for export/onnx's tests.
// Usage: node run.js JOBS.json — JOBS is [{"model": path, "feeds": {name:
// {"dims": [...], "data": [...]}}}]; prints [{name: {"dims", "data"}}] as
// JSON, one entry per job, every output of each model.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const results = [];
  for (const job of jobs) {
    const session = await ort.InferenceSession.create(job.model, { graphOptimizationLevel: 'all' });
    const feeds = {};
    for (const [name, t] of Object.entries(job.feeds)) {
      feeds[name] = new ort.Tensor('float32', Float32Array.from(t.data), t.dims);
    }
    const out = await session.run(feeds);
    const res = {};
    for (const name of session.outputNames) {
      res[name] = { dims: out[name].dims, data: Array.from(out[name].data) };
    }
    results.push(res);
    await session.release();
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
