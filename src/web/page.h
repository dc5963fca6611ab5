// page.h — the one page ./alexnet serve shows: plain HTML, CSS and
// JavaScript, no framework, compiled into the binary (nothing is read from
// disk at run time). It talks to the JSON API of serve.cpp (docs/serve.md):
//   GET  /api/model                      layer table and conv1's filters
//   POST /api/predict?layers=1&saliency=1  the drawing as PNG (or a test image as PGM)
//   GET  /api/random                     a t10k image and its label
//   POST /api/train/start|pause|resume|stop, GET /api/train/events (Server-Sent Events)
//
// Self-tests for a headless browser: ?selftest=draw (draw a "1" with
// synthetic pointer events), ?selftest=test0 (load t10k image 0) and
// ?selftest=train (start a short training run, wait for points on the curve
// and changed filters, then stop it). The page records what it saw on
// <body>: data-digit (and data-label for a test image), data-train-points,
// data-filter-updates, data-train-state.
#pragma once

inline const char* const kServePage = R"PAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alexnet: draw a digit, train a network</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 16px; background: #fafafa; color: #222; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  h2 { font-size: 15px; margin: 18px 0 6px; }
  .muted { color: #666; font-size: 13px; }
  .row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
  #pad { border: 1px solid #888; background: white; touch-action: none; cursor: crosshair; width: 280px; height: 280px; }
  button, label.file { font-size: 14px; padding: 4px 10px; margin: 6px 6px 0 0; cursor: pointer; }
  label.file { border: 1px solid #888; border-radius: 3px; background: #eee; display: inline-block; }
  label.file input { display: none; }
  #digit { font-size: 64px; font-weight: bold; line-height: 1; }
  .bar { display: flex; align-items: center; gap: 6px; font-size: 13px; height: 18px; }
  .bar .track { width: 220px; height: 12px; background: #e4e4e4; }
  .bar .fill { height: 12px; background: #1f77b4; }
  .bar.best .fill { background: #d62728; }
  .tiles { display: flex; flex-wrap: wrap; gap: 3px; max-width: 900px; }
  canvas.tile { image-rendering: pixelated; border: 1px solid #ccc; }
  canvas.strip { image-rendering: pixelated; border: 1px solid #ccc; width: 512px; }
  #error, #train-error { color: #b00; font-size: 14px; }
  fieldset { border: 1px solid #ccc; padding: 8px 12px; max-width: 900px; }
  fieldset label { display: inline-block; margin: 3px 12px 3px 0; font-size: 13px; }
  fieldset input[type=number], fieldset input[type=text] { width: 70px; }
  canvas.chart { border: 1px solid #ccc; background: white; }
  table.confusion { border-collapse: collapse; font-size: 11px; }
  table.confusion td { width: 30px; height: 22px; text-align: center; border: 1px solid #ddd; }
  .mistake { display: inline-block; text-align: center; font-size: 11px; margin-right: 6px; }
</style>
</head>
<body>
<h1>alexnet: draw a digit and watch the network think — or train one and watch it learn</h1>
<div class="muted" id="model">loading the model…</div>
<div class="row">
  <div>
    <h2>Draw here (mouse, pen or finger)</h2>
    <canvas id="pad" width="280" height="280"></canvas><br>
    <button id="clear">Clear</button><button id="random">Random test image</button>
    <label class="file">Open an image…<input type="file" id="file" accept="image/png,.pgm,image/x-portable-graymap"></label>
    <div class="muted" id="source"></div>
    <div id="error"></div>
  </div>
  <div>
    <h2>What the network sees (28×28), and where it looks</h2>
    <canvas id="seen" class="tile" width="28" height="28" style="width:168px;height:168px"></canvas>
    <canvas id="looks" class="tile" width="28" height="28" style="width:168px;height:168px"></canvas>
    <div class="muted">Right: |∂ logit / ∂ pixel| of the winning digit, red to yellow.</div>
    <h2>Prediction</h2>
    <div id="digit">?</div>
    <div class="muted" id="blank"></div>
    <div id="bars"></div>
  </div>
</div>

<h2>Train a network here</h2>
<fieldset id="train-form">
  <label>recipe <select name="recipe"><option value="">the original project's</option><option value="best">best</option><option value="fast">fast</option></select></label>
  <label>epochs <input type="number" name="epochs" value="1" min="1" max="10000"></label>
  <label>steps <input type="number" name="steps" value="" min="1" placeholder="all"></label>
  <label>learning rate <input type="text" name="lr" value="" placeholder="1e-4"></label>
  <label>batch size <input type="number" name="batch-size" value="" min="1" max="4096" placeholder="32"></label>
  <label>optimizer <select name="optimizer"><option value="">adam</option><option value="sgd">sgd</option></select></label>
  <label>schedule <select name="schedule"><option value="">constant</option><option>step</option><option>cosine</option><option>onecycle</option></select></label>
  <label>dropout <input type="text" name="dropout" value="" placeholder="0"></label>
  <label><input type="checkbox" name="augment"> augment</label>
  <label>elastic <input type="text" name="elastic" value="" placeholder="0"></label>
  <label><input type="checkbox" name="lrn"> LRN</label>
  <label>pooling <select name="pool"><option value="">2x2s2</option><option>3x3s2</option></select></label>
  <label>filters <input type="number" name="filters" value="" min="1" max="256" placeholder="8"></label>
  <label>image size <input type="number" name="image-size" value="" min="39" max="1024" placeholder="56"></label>
  <label>validation split <input type="text" name="val-split" value="" placeholder="0.2"></label>
  <label>seed <input type="number" name="seed" value="" min="0" placeholder="7"></label>
  <br><button id="train-start">Start</button><button id="train-pause">Pause</button><button id="train-resume">Resume</button><button id="train-stop">Stop</button>
  <span class="muted" id="train-state">no run yet</span>
  <div id="train-error"></div>
  <div class="muted" id="train-description"></div>
</fieldset>
<div class="row">
  <div><h2>Loss</h2><canvas id="loss-chart" class="chart" width="440" height="220"></canvas></div>
  <div><h2>Accuracy (%)</h2><canvas id="accuracy-chart" class="chart" width="440" height="220"></canvas></div>
</div>
<div class="muted">Solid: training, the epoch's running mean; dots: validation (green) and test (red) after each epoch.</div>
<div class="row">
  <div><h2>conv1's filters <span class="muted" id="filters-title"></span></h2><div class="tiles" id="filters" style="max-width:300px"></div></div>
  <div><h2>Confusion matrix <span class="muted" id="confusion-title"></span></h2><table class="confusion" id="confusion"></table></div>
  <div><h2>The test images it gets most wrong</h2><div class="muted" id="mistakes-title"></div><div id="mistakes" style="max-width:420px"></div></div>
</div>
<h2>Every layer's activations</h2>
<div class="muted">Convolutions: one tile per channel (after ReLU), each scaled to its own range. Dense layers: one cell per unit, dark = 0.</div>
<div id="layers"></div>
<script>
"use strict";
const $ = id => document.getElementById(id);
const pad = $("pad"), pen = pad.getContext("2d");

// ---- Small drawing helpers: values into grey pixels of a canvas.
function greyCanvas(values, width, height, scale, className) {
  const c = document.createElement("canvas");
  c.width = width; c.height = height; c.className = className || "tile";
  c.style.width = width * scale + "px"; c.style.height = height * scale + "px";
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const span = hi > lo ? hi - lo : 1, image = c.getContext("2d").createImageData(width, height);
  values.forEach((v, i) => {
    const g = Math.round(255 * (v - lo) / span);
    image.data.set([g, g, g, 255], 4 * i);
  });
  c.getContext("2d").putImageData(image, 0, 0);
  return c;
}
function clearPad() { pen.fillStyle = "white"; pen.fillRect(0, 0, pad.width, pad.height); }

// ---- Drawing with pointer events: one stroke per press.
let drawing = false, lastBody = null, lastLabel;
function padPoint(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}
pad.addEventListener("pointerdown", e => {
  drawing = true;
  try { pad.setPointerCapture(e.pointerId); } catch (_) { /* synthetic events have no capture */ }
  const [x, y] = padPoint(e);
  pen.lineWidth = 18; pen.lineCap = "round"; pen.lineJoin = "round"; pen.strokeStyle = "black";
  pen.beginPath(); pen.moveTo(x, y); pen.lineTo(x, y); pen.stroke();
});
pad.addEventListener("pointermove", e => {
  if (!drawing) return;
  const [x, y] = padPoint(e);
  pen.lineTo(x, y); pen.stroke();
});
function strokeEnd() {
  if (!drawing) return;
  drawing = false;
  $("source").textContent = "your drawing";
  pad.toBlob(blob => predict(blob), "image/png");
}
pad.addEventListener("pointerup", strokeEnd);
pad.addEventListener("pointercancel", strokeEnd);

// ---- Predictions.
let predicting = false;
async function predict(body, label) {
  lastBody = body; lastLabel = label;
  predicting = true;
  try {
    const response = await fetch("/api/predict?layers=1&saliency=1", { method: "POST", body });
    const result = await response.json();
    $("error").textContent = response.ok ? "" : result.error;
    if (!response.ok) return;
    show(result);
    document.body.dataset.digit = result.digit;
    if (label !== undefined) document.body.dataset.label = label;
  } finally { predicting = false; }
}
function show(result) {
  $("digit").textContent = result.blank ? "–" : result.digit;
  $("blank").textContent = result.blank ? "blank: nothing stands out from the background, so there is no digit to read" : "";
  $("model").dataset.source = result.model;
  const bars = $("bars");
  bars.innerHTML = "";
  result.probabilities.forEach((p, d) => {
    const row = document.createElement("div");
    row.className = "bar" + (d === result.digit && !result.blank ? " best" : "");
    row.innerHTML = `<span>${d}</span><span class="track"><div class="fill" style="width:${(100 * p).toFixed(1)}%"></div></span><span>${(100 * p).toFixed(1)}%</span>`;
    bars.appendChild(row);
  });
  $("seen").getContext("2d").drawImage(greyCanvas(result.input, 28, 28, 1), 0, 0);
  drawSaliency(result.input, result.saliency);
  const layers = $("layers");
  layers.innerHTML = "";
  for (const layer of result.layers) {
    const title = document.createElement("h2");
    title.textContent = `${layer.name} ${layer.shape.join("×")}`;
    const box = document.createElement("div");
    box.className = "tiles";
    if (layer.shape.length === 3) {  // conv: a tile per channel
      const [channels, h, w] = layer.shape, size = h * w, scale = Math.max(2, Math.floor(48 / w));
      for (let c = 0; c < channels; c++) box.appendChild(greyCanvas(layer.values.slice(c * size, (c + 1) * size), w, h, scale));
    } else {  // dense: a strip of cells, 128 to a row
      const n = layer.shape[0], width = Math.min(n, 128), rows = Math.ceil(n / width);
      const values = layer.values.concat(new Array(width * rows - n).fill(0));
      const strip = greyCanvas(values, width, rows, 4, "strip");
      strip.style.width = width * 4 + "px"; strip.style.height = rows * 4 + "px";
      box.appendChild(strip);
    }
    layers.append(title, box);
  }
}
// The saliency map over the dimmed image: red, then yellow where strongest.
function drawSaliency(input, saliency) {
  const image = $("looks").getContext("2d").createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const grey = 0.5 * Math.min(1, Math.max(0, input[i])), s = saliency ? saliency[i] : 0;
    const r = grey + (1 - grey) * s, g = grey * (1 - s) + s * Math.max(0, 2 * s - 1), b = grey * (1 - s);
    image.data.set([255 * r, 255 * g, 255 * b, 255], 4 * i);
  }
  $("looks").getContext("2d").putImageData(image, 0, 0);
}
async function randomTestImage(index) {
  const response = await fetch("/api/random" + (index === undefined ? "" : "?index=" + index));
  const image = await response.json();
  if (!response.ok) { $("error").textContent = image.error; return; }
  // Show it on the pad, 10x, as MNIST stores it: light digit on black.
  const c = greyCanvas(image.pixels, 28, 28, 1);
  pen.imageSmoothingEnabled = false;
  pen.drawImage(c, 0, 0, pad.width, pad.height);
  $("source").textContent = `test image ${image.index}, label ${image.label}`;
  // Send the 28x28 bytes themselves as a PGM: the network gets exactly the test image.
  await predict(new Blob([pgmOf(image.pixels)]), image.label);
}
function pgmOf(pixels) {
  const header = new TextEncoder().encode("P5\n28 28\n255\n");
  const pgm = new Uint8Array(header.length + 784);
  pgm.set(header); pgm.set(pixels, header.length);
  return pgm;
}
$("clear").onclick = () => { clearPad(); $("source").textContent = ""; lastBody = null; };
$("random").onclick = () => randomTestImage();
$("file").onchange = async e => {
  const file = e.target.files[0];
  if (!file) return;
  $("source").textContent = file.name;
  try {  // show it if the browser can (PGM it cannot)
    const bitmap = await createImageBitmap(file);
    const k = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
    clearPad();
    pen.drawImage(bitmap, 0, 0, bitmap.width * k, bitmap.height * k);
  } catch (_) { clearPad(); }
  await predict(file);
};

// ---- The model's description and conv1's filters.
function showFilters(shape, values) {
  const [oc, ch, k] = shape, box = $("filters");
  box.innerHTML = "";
  for (let f = 0; f < oc; f++) box.appendChild(greyCanvas(values.slice(f * ch * k * k, f * ch * k * k + k * k), k, k, 4));
}
async function loadModel() {
  const response = await fetch("/api/model");
  const model = await response.json();
  if (!response.ok) { $("model").textContent = model.error; return; }
  const c = model.config;
  $("model").textContent =
    `${model.file}: filters ${c.filters}, input ${c.channels}×${c.image_size}×${c.image_size}` +
    `${c.lrn ? ", LRN" : ""}${c.pool_window === 3 ? ", 3×3 pooling" : ""}, ${model.parameters.toLocaleString()} parameters`;
  showFilters(model.conv1_filters.shape, model.conv1_filters.values);
}

// ---- Training from the page: the form, the buttons, and the event stream.
function trainForm() {
  const form = new URLSearchParams();
  for (const input of $("train-form").querySelectorAll("input, select")) {
    if (input.type === "checkbox") { if (input.checked) form.append(input.name, "on"); }
    else if (input.value !== "") form.append(input.name, input.value);
  }
  return form;
}
async function trainAction(action, body) {
  const response = await fetch("/api/train/" + action, { method: "POST", body });
  const result = await response.json();
  $("train-error").textContent = response.ok ? "" : result.error;
  return response.ok;
}
$("train-start").onclick = () => trainAction("start", trainForm());
$("train-pause").onclick = () => trainAction("pause");
$("train-resume").onclick = () => trainAction("resume");
$("train-stop").onclick = () => trainAction("stop");

const run = { steps: [], epochs: [], stepsPerEpoch: 1, lastStep: 1, filterUpdates: 0, state: "idle" };
function chart(canvas, series, yLabel, fixedRange) {
  const g = canvas.getContext("2d"), W = canvas.width, H = canvas.height, left = 44, bottom = 22;
  g.clearRect(0, 0, W, H);
  const xs = series.flatMap(s => s.points.map(p => p[0])), ys = series.flatMap(s => s.points.map(p => p[1]));
  const xMax = Math.max(run.lastStep / run.stepsPerEpoch, ...xs, 1e-9);
  let [yMin, yMax] = fixedRange || [Math.min(...ys, 0), Math.max(...ys, 1e-9)];
  if (!fixedRange && ys.length) { yMin = Math.min(...ys); yMax = Math.max(...ys); if (yMax === yMin) yMax = yMin + 1; }
  const X = x => left + (W - left - 8) * x / xMax, Y = y => 8 + (H - bottom - 8) * (1 - (y - yMin) / (yMax - yMin));
  g.strokeStyle = "#999"; g.fillStyle = "#666"; g.font = "10px sans-serif";
  g.beginPath(); g.moveTo(left, 8); g.lineTo(left, H - bottom); g.lineTo(W - 8, H - bottom); g.stroke();
  for (let k = 0; k <= 4; k++) {
    const y = yMin + (yMax - yMin) * k / 4;
    g.fillText(y.toFixed(yMax - yMin < 10 ? 2 : 0), 2, Y(y) + 3);
  }
  g.fillText("epoch", W - 40, H - 6);
  g.fillText(xMax.toFixed(2), W - 36, H - bottom + 12);
  for (const s of series) {
    g.strokeStyle = g.fillStyle = s.colour;
    if (s.dots) { for (const [x, y] of s.points) { g.beginPath(); g.arc(X(x), Y(y), 3, 0, 7); g.fill(); } continue; }
    g.beginPath();
    s.points.forEach(([x, y], i) => i ? g.lineTo(X(x), Y(y)) : g.moveTo(X(x), Y(y)));
    g.stroke();
  }
}
function redrawCharts() {
  chart($("loss-chart"), [
    { colour: "#1f77b4", points: run.steps.map(s => [s.epoch, s.loss]) },
    { colour: "#2ca02c", dots: true, points: run.epochs.filter(e => e.val_loss !== null).map(e => [e.step / run.stepsPerEpoch, e.val_loss]) },
  ]);
  chart($("accuracy-chart"), [
    { colour: "#1f77b4", points: run.steps.map(s => [s.epoch, s.accuracy]) },
    { colour: "#2ca02c", dots: true, points: run.epochs.filter(e => e.val_accuracy !== null).map(e => [e.step / run.stepsPerEpoch, e.val_accuracy]) },
    { colour: "#d62728", dots: true, points: run.epochs.map(e => [e.step / run.stepsPerEpoch, e.test_accuracy]) },
  ], "%", [0, 100]);
  document.body.dataset.trainPoints = run.steps.length;
}
function showConfusion(event) {
  $("confusion-title").textContent = `(${event.set}, epoch ${event.epoch}; rows: true, columns: predicted)`;
  const table = $("confusion");
  table.innerHTML = "<tr><td></td>" + [...Array(10).keys()].map(p => `<td><b>${p}</b></td>`).join("") + "</tr>";
  event.matrix.forEach((row, t) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    table.innerHTML += `<tr><td><b>${t}</b></td>` + row.map((n, p) => {
      const share = n / total, shade = p === t ? share : Math.min(1, 20 * share);
      const colour = p === t ? `rgb(${255 - 200 * shade},${255 - 90 * shade},${255 - 200 * shade})` : `rgb(255,${255 - 200 * shade},${255 - 200 * shade})`;
      return `<td style="background:${colour}">${n}</td>`;
    }).join("") + "</tr>";
  });
}
function showMistakes(event) {
  $("mistakes-title").textContent = `(after epoch ${event.epoch}: true → predicted, and the probability given to the truth)`;
  const box = $("mistakes");
  box.innerHTML = "";
  for (const m of event.images) {
    const div = document.createElement("div");
    div.className = "mistake";
    div.appendChild(greyCanvas(m.pixels, 28, 28, 2));
    div.appendChild(document.createElement("br"));
    div.append(`${m.label} → ${m.predicted}, ${(100 * m.probability).toFixed(1)}%`);
    box.appendChild(div);
  }
}
function showRun(r) {
  run.state = r.state; run.stepsPerEpoch = r.steps_per_epoch || 1; run.lastStep = r.last_step || 1;
  $("train-state").textContent = `${r.state}${r.step ? ", step " + r.step + " of " + r.last_step : ""}${r.message ? ": " + r.message : ""}`;
  $("train-description").textContent = r.description;
  document.body.dataset.trainState = r.state;
  redrawCharts();
}
const events = new EventSource("/api/train/events");
events.addEventListener("reset", () => { run.steps = []; run.epochs = []; run.filterUpdates = 0; redrawCharts(); });
events.addEventListener("run", e => showRun(JSON.parse(e.data)));
events.addEventListener("step", e => {
  const s = JSON.parse(e.data);
  run.steps.push(s);
  $("train-state").textContent = `${run.state}, step ${s.step} of ${run.lastStep}, loss ${s.loss.toFixed(4)}, accuracy ${s.accuracy.toFixed(2)}%`;
  redrawCharts();
});
events.addEventListener("epoch", e => { run.epochs.push(JSON.parse(e.data)); redrawCharts(); });
events.addEventListener("confusion", e => showConfusion(JSON.parse(e.data)));
events.addEventListener("mistakes", e => showMistakes(JSON.parse(e.data)));
events.addEventListener("filters", e => {
  const f = JSON.parse(e.data);
  showFilters(f.shape, f.values);
  $("filters-title").textContent = "(live)";
  document.body.dataset.filterUpdates = ++run.filterUpdates;
});
// Draw while it learns: while a run is in progress, the current drawing is
// predicted again every second with the weights as they are now.
setInterval(() => { if (run.state === "running" && lastBody && !predicting) predict(lastBody, lastLabel); }, 1000);

// ---- Self-tests for a headless browser (see the comment in page.h).
function synthetic(type, x, y) {
  const r = pad.getBoundingClientRect();
  pad.dispatchEvent(new PointerEvent(type, { pointerId: 1, bubbles: true, clientX: r.left + x * r.width / pad.width,
                                             clientY: r.top + y * r.height / pad.height, pressure: 0.5 }));
}
function drawOne() {  // a "1": one vertical stroke
  synthetic("pointerdown", 140, 50);
  for (let y = 50; y <= 230; y += 10) synthetic("pointermove", 140, y);
  synthetic("pointerup", 140, 230);
}
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
async function selfTest(kind) {
  if (kind === "test0") return randomTestImage(0);
  if (kind === "draw") return drawOne();
  if (kind === "train") {  // a short run on a small network, stopped half-way
    for (const [name, value] of [["epochs", "1"], ["steps", "3000"], ["filters", "2"], ["image-size", "39"], ["lr", "1e-3"]])
      $("train-form").querySelector(`[name=${name}]`).value = value;
    drawOne();
    await trainAction("start", trainForm());
    for (let t = 0; t < 600 && !(run.steps.length >= 10 && run.filterUpdates >= 3); t++) await sleep(100);
    document.body.dataset.trainSeen = "yes";  // the screenshot is taken here, mid-run
    for (let t = 0; t < 50 && document.body.dataset.shot !== "taken"; t++) await sleep(100);
    await trainAction("stop");
  }
}

clearPad();
loadModel().finally(() => {
  const kind = new URLSearchParams(location.search).get("selftest");
  if (kind) selfTest(kind);
});
</script>
</body>
</html>
)PAGE";
