// glassnet playground page. It draws what the server sends; all math runs in the glassnet engine.
"use strict";
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
let session = null, token = "", events = null, snap = null, trace = null, stages = [], stageIndex = 0;

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (v === 0) return "0";
  const a = Math.abs(v);
  return (a >= 1e4 || a < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}
function showError(message) { $("error").textContent = message || ""; }

async function api(path, options = {}) {
  // every change carries the session's token (the server refuses changes without it)
  const response = await fetch(path, { ...options, headers: { ...options.headers, "X-Glassnet-Token": token } });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(body?.error || `${response.status} ${response.statusText}`);
  return body;
}

function settings() {
  const hidden = $("hidden").value.trim() === "" ? [] :
    $("hidden").value.split(",").map((s) => Number(s.trim()));
  return { dataset: $("dataset").value, hidden, activation: $("activation").value, cost: $("cost").value,
           optimizer: $("optimizer").value, learning_rate: Number($("lr").value),
           batch_size: Number($("batch").value), seed: Number($("seed").value) };
}

async function newSession() {
  showError("");
  try {
    const created = await api("/api/sessions", { method: "POST", headers: { "Content-Type": "application/json" },
                                                 body: JSON.stringify(settings()) });
    if (session) fetch(`/api/sessions/${session}`, { method: "DELETE", headers: { "X-Glassnet-Token": token } });
    adopt(created);
    clearTrace();
    listen();
    render(created);
  } catch (e) { showError(e.message); }
}

function adopt(state) {  // this tab's session; kept in sessionStorage so a reload takes it back
  session = state.id; token = state.token || token;
  document.body.dataset.session = session;
  sessionStorage.setItem("glassnet-session", JSON.stringify({ id: session, token }));
}

async function resume() {  // after a reload: claim the session this tab had, else start a new one
  const kept = JSON.parse(sessionStorage.getItem("glassnet-session") || "null");
  if (!kept) return newSession();
  token = kept.token;
  let state;
  try { state = await api(`/api/sessions/${kept.id}/claim`, { method: "POST" }); } catch (e) { token = ""; return newSession(); }
  adopt(state); listen(); render(state);
}

function listen() {
  if (events) events.close();
  events = new EventSource(`/api/sessions/${session}/events`);
  events.onmessage = (message) => render(JSON.parse(message.data));
}

async function act(name) {
  if (!session) return;
  showError("");
  try { render(await api(`/api/sessions/${session}/${name}`, { method: "POST" })); } catch (e) { showError(e.message); }
}

function render(state) {
  // an event stream message can arrive after a newer state from an action's answer: never go back in time
  if (snap && state.id === snap.id && state.version < snap.version) return;
  snap = state;
  $("start").textContent = state.running ? "pause" : "start";
  $("network-name").textContent = state.network;
  $("epoch").textContent = state.epoch;
  const h = state.history, last = (list) => list.length ? list[list.length - 1] : null;
  $("loss").textContent = fmt(last(h.loss));
  const accuracy = last(h.accuracy);
  $("accuracy").textContent = accuracy === null ? "–" : (100 * accuracy).toFixed(1) + "%";
  $("accuracy").dataset.value = accuracy === null ? "" : accuracy;
  const valAccuracy = last(h.val_accuracy);
  $("val-accuracy").textContent = valAccuracy === null ? "–" : (100 * valAccuracy).toFixed(1) + "%";
  if (state.error) showError(state.error);
  if (!trace) drawNetwork(state, null);
  drawCurves(h);
  drawBoundary(state);
  drawDials(state.dials);
}

// ---- the network as SVG: weights as lines (thickness |w|, colour sign), biases as dashed units ----------
function layout(sizes) {
  const width = 640, height = 360, columns = sizes.length;
  return sizes.map((n, k) => {
    const shown = Math.min(n, 16);
    const x = 50 + k * (width - 100) / Math.max(columns - 1, 1);
    return Array.from({ length: shown }, (_, i) => ({ x, y: 30 + (i + 0.5) * (height - 50) / shown, index: i }));
  });
}

function unitName(k, j, sizes) {
  if (k === 0) return `x${j}`;
  if (k === sizes.length - 1) return `ŷ${j}`;
  return sizes.length === 3 ? `z${j}` : `z${k}_${j}`;
}

function drawNetwork(state, overlay) {
  const svg = $("network");
  svg.replaceChildren();
  const sizes = state.sizes, points = layout(sizes);
  const weights = state.weights, grads = state.gradients || [];
  if (weights) {
    let largest = 1e-12;
    weights.forEach((W) => W.forEach((row) => row.forEach((w) => { largest = Math.max(largest, Math.abs(w)); })));
    weights.forEach((W, k) => points[k].forEach((from) => points[k + 1].forEach((to) => {
      const w = W[from.index][to.index];
      const g = grads[k] ? grads[k][from.index][to.index] : null;
      const line = document.createElementNS(SVG, "line");
      Object.entries({ x1: from.x, y1: from.y, x2: to.x, y2: to.y, stroke: w >= 0 ? "#2166ac" : "#b2182b",
                       "stroke-width": 1 + 4 * Math.abs(w) / largest,
                       "stroke-opacity": 0.25 + 0.65 * Math.abs(w) / largest }).forEach(([a, v]) => line.setAttribute(a, v));
      line.dataset.layer = k + 1; line.dataset.from = from.index + 1; line.dataset.to = to.index + 1;
      const text = `w(${unitName(k, from.index + 1, sizes)}→${unitName(k + 1, to.index + 1, sizes)}) = ${fmt(w)}` +
                   (g === null ? "" : `   ∂C/∂w = ${fmt(g)}`);
      line.addEventListener("mouseenter", () => { $("hover").textContent = text; });
      const title = document.createElementNS(SVG, "title"); title.textContent = text; line.appendChild(title);
      svg.appendChild(line);
    })));
  }
  points.forEach((column, k) => column.forEach((p) => {
    const circle = document.createElementNS(SVG, "circle");
    circle.setAttribute("cx", p.x); circle.setAttribute("cy", p.y); circle.setAttribute("r", 11);
    const bias = k > 0 && state.biases ? state.biases[k - 1][p.index] : null;
    const bg = k > 0 && state.bias_gradients && state.bias_gradients[k - 1] ? state.bias_gradients[k - 1][p.index] : null;
    const name = unitName(k, p.index + 1, sizes);
    const text = k === 0 ? `${name}: input` : `${name}: bias b = ${fmt(bias)}` + (bg === null ? "" : `   ∂C/∂b = ${fmt(bg)}`);
    circle.addEventListener("mouseenter", () => { $("hover").textContent = text; });
    const title = document.createElementNS(SVG, "title"); title.textContent = text; circle.appendChild(title);
    svg.appendChild(circle);
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", p.x); label.setAttribute("y", p.y + 3); label.setAttribute("text-anchor", "middle");
    label.textContent = name;
    svg.appendChild(label);
    if (bias !== null && column.length <= 10) {  // each unit's bias, written under it
      const b = document.createElementNS(SVG, "text");
      b.setAttribute("x", p.x); b.setAttribute("y", p.y + 21); b.setAttribute("text-anchor", "middle");
      b.setAttribute("class", "bias"); b.dataset.layer = k; b.dataset.unit = p.index + 1;
      b.textContent = `b=${fmt(bias)}`;
      svg.appendChild(b);
    }
    if (overlay && overlay[k] && overlay[k][p.index] !== undefined) {
      const value = document.createElementNS(SVG, "text");
      value.setAttribute("x", p.x - 14); value.setAttribute("y", p.y - 12);
      value.setAttribute("class", overlay.kind); value.textContent = fmt(overlay[k][p.index]);
      svg.appendChild(value);
    }
  }));
  sizes.forEach((n, k) => {
    if (n > 16) {
      const more = document.createElementNS(SVG, "text");
      more.setAttribute("x", points[k][0].x - 20); more.setAttribute("y", 352); more.textContent = `16 of ${n}`;
      svg.appendChild(more);
    }
  });
}

// ---- curves ------------------------------------------------------------------------------------------
function drawCurves(h) {
  const svg = $("curves");
  svg.replaceChildren();
  const n = h.loss.length;
  if (!n) return;
  const maxLoss = Math.max(...h.loss, ...(h.val_loss.length ? h.val_loss : [0]), 1e-9);
  const series = [[h.loss, "#1f77b4", maxLoss], [h.val_loss, "#ff7f0e", maxLoss], [h.accuracy, "#2ca02c", 1],
                  [h.val_accuracy, "#d62728", 1]];
  series.forEach(([values, colour, top]) => {
    if (!values.length) return;
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", values.map((v, i) => `${10 + 400 * i / Math.max(n - 1, 1)},${170 - 160 * v / top}`).join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", colour); line.setAttribute("stroke-width", 1.5);
    svg.appendChild(line);
  });
}

// ---- decision boundary and per-unit heat maps (2-D data) ---------------------------------------------
function heat(canvas, grid, colour) {
  const n = grid.length, ctx = canvas.getContext("2d");
  canvas.width = n; canvas.height = n;
  const image = ctx.createImageData(n, n);
  grid.forEach((row, i) => row.forEach((v, j) => {
    const [r, g, b] = colour(v), at = 4 * ((n - 1 - i) * n + j);
    image.data.set([r, g, b, 255], at);
  }));
  ctx.putImageData(image, 0, 0);
}
const probabilityColour = (p) => [Math.round(255 * (0.25 + 0.75 * p)), Math.round(255 * (1 - Math.abs(p - 0.5))), Math.round(255 * (1 - 0.75 * p))];
const unitColour = (v) => { const t = Math.max(-1, Math.min(1, v)); return t >= 0 ? [255 - 150 * t, 255 - 90 * t, 255] : [255, 255 + 120 * t, 255 + 120 * t]; };

function drawBoundary(state) {
  const canvas = $("boundary");
  if (!state.boundary) { $("boundary-note").textContent = "a decision boundary needs 2-D data"; return; }
  $("boundary-note").textContent = "colour: P(class 1); dots: training samples; small maps: each first-layer hidden unit";
  const map = document.createElement("canvas");
  heat(map, state.boundary, probabilityColour);
  canvas.width = 280; canvas.height = 280;
  const ctx = canvas.getContext("2d"), size = canvas.width, [x0, x1, y0, y1] = state.extent;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(map, 0, 0, size, size);
  state.points.forEach(([x, y], i) => {
    ctx.beginPath();
    ctx.arc((x - x0) / (x1 - x0) * size, (1 - (y - y0) / (y1 - y0)) * size, 2.5, 0, 2 * Math.PI);
    ctx.fillStyle = state.labels[i] ? "#7f0000" : "#00306f";
    ctx.strokeStyle = "white"; ctx.lineWidth = 0.8;
    ctx.fill(); ctx.stroke();
  });
  const units = $("units");
  units.replaceChildren();
  (state.unit_maps || []).forEach((grid, j) => {
    const small = document.createElement("canvas");
    small.title = `hidden unit z${j + 1}`;
    heat(small, grid, unitColour);
    units.appendChild(small);
  });
}

function drawDials(dials) {
  const list = $("dials");
  list.replaceChildren();
  (dials || []).forEach((d) => {
    const item = document.createElement("li");
    const up = d.direction === "turn up";
    item.innerHTML = `${d.name} = ${fmt(d.value)}, ∂C/∂w = ${fmt(d.gradient)} ` +
                     `<span class="${up ? "up" : "down"}">${up ? "▲" : "▼"} ${d.direction}</span>`;
    list.appendChild(item);
  });
}

// ---- step-through ------------------------------------------------------------------------------------
function clearTrace() { trace = null; stages = []; stageIndex = 0; $("stage").textContent = "";
  $("next-stage").disabled = true; $("trace-table").querySelector("thead").replaceChildren();
  $("trace-table").querySelector("tbody").replaceChildren(); $("step-summary").textContent = ""; }

async function stepThrough() {
  if (!session) return;
  showError("");
  try {
    trace = await api(`/api/sessions/${session}/step`, { method: "POST" });
  } catch (e) { showError(e.message); return; }
  const L = trace.layers.length;
  stages = [{ kind: "forward" }];
  for (let k = L - 1; k >= 0; k--) stages.push({ kind: "backward", layer: k });
  stages.push({ kind: "update" });
  stageIndex = 0;
  $("next-stage").disabled = false;
  showStage();
}

function cell(row, value, attributes) {
  const td = document.createElement("td");
  td.textContent = fmt(value);
  td.dataset.value = String(value);
  Object.entries(attributes).forEach(([k, v]) => { td.dataset[k] = v; });
  row.appendChild(td);
}

function showStage() {
  const stage = stages[stageIndex], sizes = snap.sizes, sample = 0;
  const head = $("trace-table").querySelector("thead"), body = $("trace-table").querySelector("tbody");
  head.replaceChildren(); body.replaceChildren();
  const header = document.createElement("tr");
  const addHead = (names) => names.forEach((n) => { const th = document.createElement("th"); th.textContent = n; header.appendChild(th); });
  let overlay = null;
  if (stage.kind === "forward") {
    $("stage").textContent = `stage ${stageIndex + 1}/${stages.length}: forward pass (sample 1)`;
    addHead(["layer", "unit", "a = Σ w·input + b", "z = f(a)"]);
    overlay = [trace.x[sample]].concat(trace.layers.map((l) => l.z[sample]));
    overlay.kind = "value";
    trace.layers.forEach((l) => l.z[sample].forEach((z, j) => {
      const row = document.createElement("tr");
      row.innerHTML = `<td class="label">${l.index} (${l.activation})</td><td class="label">${unitName(l.index, j + 1, sizes)}</td>`;
      cell(row, l.a[sample][j], { kind: "a", layer: l.index, unit: j + 1 });
      cell(row, z, { kind: "z", layer: l.index, unit: j + 1 });
      body.appendChild(row);
    }));
  } else if (stage.kind === "backward") {
    const l = trace.layers[stage.layer];
    $("stage").textContent = `stage ${stageIndex + 1}/${stages.length}: deltas of layer ${l.index} (chain rule, output first)`;
    addHead(["layer", "unit", "δ = ∂C/∂a"]);
    overlay = sizes.map(() => null);
    for (let k = stage.layer; k < trace.layers.length; k++) overlay[k + 1] = trace.layers[k].delta[sample];
    overlay.kind = "delta";
    l.delta[sample].forEach((d, j) => {
      const row = document.createElement("tr");
      row.innerHTML = `<td class="label">${l.index}</td><td class="label">${unitName(l.index, j + 1, sizes)}</td>`;
      cell(row, d, { kind: "delta", layer: l.index, unit: j + 1 });
      body.appendChild(row);
    });
  } else {
    $("stage").textContent = `stage ${stageIndex + 1}/${stages.length}: updates w := w − α·∂C/∂w (α = ${trace.learning_rate})`;
    addHead(["weight", "w", "∂C/∂w", "new w"]);
    trace.layers.forEach((l) => {
      l.W.forEach((row_, i) => row_.forEach((w, j) => {
        const row = document.createElement("tr");
        row.innerHTML = `<td class="label">w(${unitName(l.index - 1, i + 1, sizes)}→${unitName(l.index, j + 1, sizes)})</td>`;
        cell(row, w, { kind: "W", layer: l.index, from: i + 1, to: j + 1 });
        cell(row, l.grad_W[i][j], { kind: "grad_W", layer: l.index, from: i + 1, to: j + 1 });
        cell(row, l.W_new[i][j], { kind: "W_new", layer: l.index, from: i + 1, to: j + 1 });
        body.appendChild(row);
      }));
      l.b.forEach((b, j) => {
        const row = document.createElement("tr");
        row.innerHTML = `<td class="label">b(${unitName(l.index, j + 1, sizes)})</td>`;
        cell(row, b, { kind: "b", layer: l.index, to: j + 1 });
        cell(row, l.grad_b[j], { kind: "grad_b", layer: l.index, to: j + 1 });
        cell(row, l.b_new[j], { kind: "b_new", layer: l.index, to: j + 1 });
        body.appendChild(row);
      });
    });
    $("step-summary").innerHTML = `cost on this batch: <b id="cost-before" data-value="${trace.cost_before}">${fmt(trace.cost_before)}</b>` +
      ` → <b id="cost-after" data-value="${trace.cost_after}">${fmt(trace.cost_after)}</b>`;
  }
  $("trace-table").querySelector("thead").appendChild(header);
  drawNetwork(snap, overlay);
  $("next-stage").disabled = stageIndex >= stages.length - 1;
}

// ---- model files -------------------------------------------------------------------------------------
async function upload(file) {
  showError("");
  try {
    render(await api(`/api/sessions/${session}/model`, { method: "POST", body: await file.arrayBuffer() }));
  } catch (e) { showError(e.message); }
}

async function init() {
  const options = await api("/api/options");
  const fill = (id, values, chosen) => { $(id).replaceChildren(...values.map((v) => new Option(v, v, v === chosen, v === chosen))); };
  fill("dataset", options.datasets, "xor"); fill("activation", options.activations, "tanh");
  fill("cost", options.costs, "auto"); fill("optimizer", options.optimizers, "sgd");
  $("apply").onclick = newSession;
  $("start").onclick = () => { clearTrace(); act(snap && snap.running ? "pause" : "start"); };
  $("reset").onclick = () => { clearTrace(); act("reset"); };
  $("step").onclick = stepThrough;
  $("next-stage").onclick = () => { if (stageIndex < stages.length - 1) { stageIndex++; showStage(); } };
  $("download").onclick = (e) => { if (!session) { e.preventDefault(); return; } $("download").href = `/api/sessions/${session}/model`; };
  $("upload").onchange = (e) => { if (e.target.files.length) upload(e.target.files[0]); };
  window.addEventListener("pagehide", () => { if (session) navigator.sendBeacon(`/api/sessions/${session}/release`, token); });
  window.addEventListener("pageshow", (e) => { if (e.persisted && session) api(`/api/sessions/${session}/claim`, { method: "POST" }).catch(() => newSession()); });
  await resume();
}
init().catch((e) => showError(e.message));
