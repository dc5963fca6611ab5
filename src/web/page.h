// page.h — the one page ./alexnet serve shows: plain HTML, CSS and
// JavaScript, no framework, compiled into the binary (nothing is read from
// disk at run time). It talks to the JSON API of serve.cpp:
//   GET  /api/model             layer table and conv1's filters, once
//   POST /api/predict?layers=1  the drawing as PNG (or a test image as PGM)
//   GET  /api/random            a t10k image and its label
//
// ?selftest=draw (draw a "1" with synthetic pointer events) and
// ?selftest=test0 (load t10k image 0) let a headless browser check the page
// end to end: when a prediction is shown, <body> gets data-digit (and
// data-label for a test image).
#pragma once

inline const char* const kServePage = R"PAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alexnet: draw a digit</title>
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
  #error { color: #b00; font-size: 14px; }
</style>
</head>
<body>
<h1>alexnet: draw a digit and watch the network think</h1>
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
    <h2>What the network sees (28×28)</h2>
    <canvas id="seen" class="tile" width="28" height="28" style="width:112px;height:112px"></canvas>
    <h2>Prediction</h2>
    <div id="digit">?</div>
    <div id="bars"></div>
  </div>
</div>
<h2>Every layer's activations</h2>
<div class="muted">Convolutions: one tile per channel (after ReLU), each scaled to its own range. Dense layers: one cell per unit, dark = 0.</div>
<div id="layers"></div>
<h2>conv1's filters</h2>
<div class="tiles" id="filters"></div>
<script>
"use strict";
const pad = document.getElementById("pad"), pen = pad.getContext("2d");

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
function clearPad() {
  pen.fillStyle = "white"; pen.fillRect(0, 0, pad.width, pad.height);
}

// ---- Drawing with pointer events: one stroke per press.
let drawing = false;
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
  document.getElementById("source").textContent = "your drawing";
  pad.toBlob(blob => predict(blob), "image/png");
}
pad.addEventListener("pointerup", strokeEnd);
pad.addEventListener("pointercancel", strokeEnd);

// ---- The API.
async function predict(body, label) {
  const response = await fetch("/api/predict?layers=1", { method: "POST", body });
  const result = await response.json();
  document.getElementById("error").textContent = response.ok ? "" : result.error;
  if (!response.ok) return;
  show(result);
  document.body.dataset.digit = result.digit;
  if (label !== undefined) document.body.dataset.label = label;
}
function show(result) {
  document.getElementById("digit").textContent = result.digit;
  const bars = document.getElementById("bars");
  bars.innerHTML = "";
  result.probabilities.forEach((p, d) => {
    const row = document.createElement("div");
    row.className = "bar" + (d === result.digit ? " best" : "");
    row.innerHTML = `<span>${d}</span><span class="track"><div class="fill" style="width:${(100 * p).toFixed(1)}%"></div></span><span>${(100 * p).toFixed(1)}%</span>`;
    bars.appendChild(row);
  });
  const seen = document.getElementById("seen").getContext("2d");
  seen.drawImage(greyCanvas(result.input, 28, 28, 1), 0, 0);
  const layers = document.getElementById("layers");
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
async function randomTestImage(index) {
  const response = await fetch("/api/random" + (index === undefined ? "" : "?index=" + index));
  const image = await response.json();
  if (!response.ok) { document.getElementById("error").textContent = image.error; return; }
  // Show it on the pad, 10x, as MNIST stores it: light digit on black.
  const c = greyCanvas(image.pixels, 28, 28, 1);
  pen.imageSmoothingEnabled = false;
  pen.drawImage(c, 0, 0, pad.width, pad.height);
  document.getElementById("source").textContent = `test image ${image.index}, label ${image.label}`;
  // Send the 28x28 bytes themselves as a PGM: the network gets exactly the test image.
  const header = new TextEncoder().encode("P5\n28 28\n255\n");
  const pgm = new Uint8Array(header.length + 784);
  pgm.set(header); pgm.set(image.pixels, header.length);
  await predict(new Blob([pgm]), image.label);
}
document.getElementById("clear").onclick = () => { clearPad(); document.getElementById("source").textContent = ""; };
document.getElementById("random").onclick = () => randomTestImage();
document.getElementById("file").onchange = async e => {
  const file = e.target.files[0];
  if (!file) return;
  document.getElementById("source").textContent = file.name;
  try {  // show it if the browser can (PGM it cannot)
    const bitmap = await createImageBitmap(file);
    const k = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
    clearPad();
    pen.drawImage(bitmap, 0, 0, bitmap.width * k, bitmap.height * k);
  } catch (_) { clearPad(); }
  await predict(file);
};

// ---- The model's description and conv1's filters, once.
async function loadModel() {
  const model = await (await fetch("/api/model")).json();
  const c = model.config;
  document.getElementById("model").textContent =
    `${model.file}: filters ${c.filters}, input ${c.channels}×${c.image_size}×${c.image_size}` +
    `${c.lrn ? ", LRN" : ""}${c.pool_window === 3 ? ", 3×3 pooling" : ""}, ${model.parameters.toLocaleString()} parameters`;
  const [oc, ch, k] = model.conv1_filters.shape, box = document.getElementById("filters");
  for (let f = 0; f < oc; f++) box.appendChild(greyCanvas(model.conv1_filters.values.slice(f * ch * k * k, f * ch * k * k + k * k), k, k, 4));
}

// ---- Self-tests for a headless browser (see the comment in page.h).
function synthetic(type, x, y) {
  const r = pad.getBoundingClientRect();
  pad.dispatchEvent(new PointerEvent(type, { pointerId: 1, bubbles: true, clientX: r.left + x * r.width / pad.width,
                                             clientY: r.top + y * r.height / pad.height, pressure: 0.5 }));
}
async function selfTest(kind) {
  if (kind === "test0") return randomTestImage(0);
  if (kind === "draw") {  // a "1": one vertical stroke
    synthetic("pointerdown", 140, 50);
    for (let y = 50; y <= 230; y += 10) synthetic("pointermove", 140, y);
    synthetic("pointerup", 140, 230);
  }
}

clearPad();
loadModel().then(() => {
  const kind = new URLSearchParams(location.search).get("selftest");
  if (kind) selfTest(kind);
});
</script>
</body>
</html>
)PAGE";
