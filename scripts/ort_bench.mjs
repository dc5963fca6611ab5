// scripts/ort_bench.mjs MODEL.onnx THREADS... — ONNX Runtime's inference
// speed on the model that scripts/pytorch_reference.py exported, measured as
// ./alexnet bench --inference measures its own: images/s at batch 32 and
// batch-1 latency, medians of repeated runs, one session per thread count.
// First checks ORT's probabilities against PyTorch's (MODEL.check.json).
// Prints one JSON object. Run by scripts/ort_compare.sh, which installs
// onnxruntime-node; not part of make test.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const require = createRequire(process.cwd() + "/");
const ort = require("onnxruntime-node");

const [modelPath, ...threadArgs] = process.argv.slice(2);
const threadCounts = threadArgs.map(Number);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// Runs f at least `repeats` times and for at least `seconds`; the median time.
async function timeMedian(f, repeats, seconds) {
  const times = [];
  const start = performance.now();
  while (times.length < repeats || performance.now() - start < 1e3 * seconds) {
    const t0 = performance.now();
    await f();
    times.push((performance.now() - t0) / 1e3);
  }
  return median(times);
}

const check = JSON.parse(readFileSync(modelPath + ".check.json", "utf8"));
const [, channels, size] = check.shape;
const result = { onnxruntime: require("onnxruntime-node/package.json").version, threads: {} };
for (const threads of threadCounts) {
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const tensor = (data, batch) => ({ image: new ort.Tensor("float32", data, [batch, channels, size, size]) });
  const got = (await session.run(tensor(Float32Array.from(check.input), check.shape[0]))).probabilities.data;
  const worst = Math.max(...check.probabilities.map((p, i) => Math.abs(p - got[i])));
  if (!(worst < 1e-4)) throw new Error(`ORT and PyTorch disagree: max difference ${worst}`);
  const run = (batch) => {
    const feeds = tensor(new Float32Array(batch * channels * size * size).map(() => Math.random()), batch);
    return () => session.run(feeds);
  };
  for (let i = 0; i < 20; ++i) await run(32)();  // warm-up
  const batchSeconds = await timeMedian(run(32), 20, 0.3);
  const latency = await timeMedian(run(1), 200, 0.3);
  result.threads[threads] = { batch32_images_per_s: 32 / batchSeconds, batch1_latency_ms: 1e3 * latency };
}
console.log(JSON.stringify(result));
