// glassnet playground page. It draws what the server sends; all math runs in the glassnet engine.
"use strict";
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
// Okabe & Ito's colour-blind-safe palette, one colour per class
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 0.5, 1, 3, 10];
const L2_VALUES = [0, 0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
const SPEEDS = [[0, "full speed"], [100, "100 steps/s"], [20, "20 steps/s"], [5, "5 steps/s"], [1, "1 step/s"]];
const PAGE_ROWS = 20;
let options = null, session = null, token = "", events = null, snap = null;
let trace = null, stages = [], stageIndex = 0, page = 0, dialTarget = null, dialBusy = false, dialQueued = null;

// ---- numbers -------------------------------------------------------------------------------------------
// six significant digits, so a weight's change after one step shows (1.66912 → 1.66897)
function fmt(v, digits = 6) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(digits - 1).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(digits)));
}
const signed = (v) => (v < 0 ? "−" + fmt(-v) : fmt(v));
const paren = (v) => (v < 0 ? `(${signed(v)})` : fmt(v));
function showError(message) { $("error").textContent = message || ""; }
function notify(message) { $("notice").textContent = message || ""; }
function el(tag, attributes = {}, text = "") {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  Object.entries(attributes).forEach(([k, v]) => node.setAttribute(k, v));
  if (text) node.textContent = text;
  return node;
}

async function api(path, init = {}, key = token) {
  // every change carries the session's token (the server refuses changes without it)
  const response = await fetch(path, { ...init, headers: { ...init.headers, "X-Glassnet-Token": key } });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new Error(body?.error || `${response.status} ${response.statusText}`);
  return body;
}
const post = (path, body) => api(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                          body: JSON.stringify(body || {}) });

// ---- settings: the controls, the URL, the server ---------------------------------------------------------
function hiddenLayers() {
  const text = $("hidden").value.trim();
  return text === "" ? [] : text.split(",").map((s) => Number(s.trim()));
}
function chosenFeatures() {
  return [...document.querySelectorAll("#features input:checked")].map((box) => box.value);
}
function liveSettings() {
  return { learning_rate: Number($("lr").value), optimizer: $("optimizer").value,
           batch_size: Number($("batch").value), l2: Number($("l2").value), l1: Number($("l1").value),
           speed: Number($("speed").value) };
}
function settings() {
  const features = $("dataset").value === "digits" ? [] : chosenFeatures();
  return { dataset: $("dataset").value, hidden: hiddenLayers(), activation: $("activation").value,
           cost: $("cost").value, seed: Number($("seed").value), data_seed: dataSeed,
           noise: Number($("noise").value), test_fraction: Number($("test").value) / 100, features,
           ...liveSettings() };
}
let dataSeed = 0;

const URL_FIELDS = { dataset: "dataset", hidden: "hidden", activation: "activation", cost: "cost", seed: "seed",
                     noise: "noise", test: "test", lr: "lr", optimizer: "optimizer", batch: "batch", l2: "l2", l1: "l1",
                     speed: "speed" };
function saveToUrl() {
  const params = new URLSearchParams();
  Object.entries(URL_FIELDS).forEach(([key, id]) => params.set(key, $(id).value));
  params.set("features", chosenFeatures().join(","));
  params.set("data_seed", dataSeed);
  ["show-test", "discretize", "log-scale"].forEach((id) => params.set(id, $(id).checked ? "1" : "0"));
  history.replaceState(null, "", "#" + params.toString());
}
function loadFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  Object.entries(URL_FIELDS).forEach(([key, id]) => {
    if (!params.has(key)) return;
    const value = params.get(key), field = $(id);
    if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === value)) field.add(new Option(value, value));
    field.value = value;
  });
  if (params.has("data_seed")) dataSeed = Number(params.get("data_seed")) || 0;
  ["show-test", "discretize", "log-scale"].forEach((id) => { if (params.has(id)) $(id).checked = params.get(id) === "1"; });
  buildFeatureBoxes(params.has("features") ? params.get("features").split(",") : null);
}

function buildFeatureBoxes(chosen) {
  const dataset = $("dataset").value, box = $("features");
  const names = dataset === "digits" ? [] : dataset === "regression" ? ["x1", "x1sq", "sinx1"] : Object.keys(options.features);
  const defaults = dataset === "regression" ? ["x1"] : ["x1", "x2"];
  const wanted = (chosen || defaults).filter((n) => names.includes(n));
  box.replaceChildren(...names.map((name) => {
    const label = el("label");
    const input = el("input", { type: "checkbox", value: name, id: `feature-${name}` });
    input.checked = (wanted.length ? wanted : defaults).includes(name);
    input.onchange = () => { if (!chosenFeatures().length) input.checked = true; rebuild("input features changed"); };
    label.append(input, " " + options.features[name]);
    return label;
  }));
  $("noise").disabled = !options.noisy.includes(dataset);
  $("test").disabled = options.truth_tables.includes(dataset) || false;
}

function buildLayerButtons() {
  const layers = hiddenLayers(), box = $("layer-units");
  box.replaceChildren(...layers.map((units, k) => {
    const span = el("span", { class: "unit-box" });
    const minus = el("button", { "aria-label": `fewer units in hidden layer ${k + 1}`, "data-layer": k + 1 }, "−");
    const plus = el("button", { "aria-label": `more units in hidden layer ${k + 1}`, "data-layer": k + 1 }, "+");
    minus.onclick = () => changeUnits(k, -1);
    plus.onclick = () => changeUnits(k, +1);
    span.append(minus, el("span", {}, `${units}`), plus);
    return span;
  }));
}
function setHidden(layers, why) { $("hidden").value = layers.join(","); buildLayerButtons(); rebuild(why); }
function changeUnits(k, by) {
  const layers = hiddenLayers();
  layers[k] = Math.max(1, Math.min(options.limits.units, layers[k] + by));
  setHidden(layers, `layer ${k + 1} now has ${layers[k]} units`);
}
function changeLayers(by) {
  const layers = hiddenLayers();
  if (by > 0 && layers.length < options.limits.layers) layers.push(layers.length ? layers[layers.length - 1] : 4);
  if (by < 0) layers.pop();
  setHidden(layers, `${layers.length} hidden layer${layers.length === 1 ? "" : "s"}`);
}

// a dataset or architecture change: a new network, and the page says so
async function rebuild(why) {
  saveToUrl();
  if (await newSession()) notify(`new network (${why}): training starts over`);
}

let creating = 0;  // several quick changes: only the last request's network is kept
async function newSession() {
  showError("");
  const ticket = ++creating;
  try {
    const created = await post("/api/sessions", settings());
    if (ticket !== creating) { discard(created.id, created.token); return false; }
    if (session) discard(session, token);
    adopt(created);
    showInfo("hover or tap a unit or a weight to read it; tap a weight to put it on the dial");
    snap = null;
    clearTrace();
    clearDial();
    listen();
    render(created);
    return true;
  } catch (e) { showError(e.message); return false; }
}

async function changeLive() {
  saveToUrl();
  if (!session) return;
  showError("");
  try {
    render(await post(`/api/sessions/${session}/settings`, liveSettings()));
    notify(`learning settings changed: ${describeLive()}; the network keeps its weights`);
  } catch (e) { showError(e.message); }
}
function describeLive() {
  const s = liveSettings();
  return `α = ${s.learning_rate}, ${s.optimizer}, batch ${s.batch_size}, L2 ${s.l2}, L1 ${s.l1}, ` +
         (s.speed ? `${s.speed} steps/s` : "full speed");
}

function discard(id, key) {  // a session this tab no longer shows (its own token, not this tab's current one)
  api(`/api/sessions/${id}`, { method: "DELETE" }, key).catch(() => {});
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
  adopt(state);
  // the address may ask for other settings than the kept session has (a new address in the same tab): then
  // the controls shown win and the kept session goes
  const wanted = settings();
  if (Object.keys(wanted).some((k) => JSON.stringify(wanted[k]) !== JSON.stringify(state.config[k]))) return newSession();
  listen(); render(state);
}

function listen() {
  if (events) events.close();
  events = new EventSource(`/api/sessions/${session}/events`);
  events.onmessage = (message) => render(JSON.parse(message.data));
}

async function act(name) {
  if (!session) return;
  showError("");
  try { render(await post(`/api/sessions/${session}/${name}`), true); } catch (e) { showError(e.message); }
}

// ---- rendering a snapshot --------------------------------------------------------------------------------
function render(state, force = false) {
  // an event-stream message can arrive after a newer state from an action's answer: never go back in time,
  // and never redraw the same state twice (unless asked: the step-through was closed)
  if (!state || state.id !== session) return;
  if (snap && (state.version < snap.version || (state.version === snap.version && !force))) return;
  snap = state;
  document.body.dataset.version = state.version;
  $("start").textContent = state.running ? "pause" : "start";
  $("network-name").textContent = state.network;
  $("epoch").textContent = state.epoch;
  $("speed-note").textContent = `${state.steps} step${state.steps === 1 ? "" : "s"}` +
    (state.config.speed ? ` at ${state.config.speed} per second` : "");
  renderScores(state);
  if (state.error) showError(state.error);
  drawCurves(state.history);
  drawDials(state.dials);
  drawPictures(state);
}

// the diagram and the maps are the costly part: while training they are drawn at most every 400 ms, and the
// last state is always drawn
let lastPictures = 0, picturesLater = null;
function drawPictures(state) {
  clearTimeout(picturesLater);
  const wait = 400 - (performance.now() - lastPictures);
  if (state.running && wait > 0) { picturesLater = setTimeout(() => drawPictures(snap), wait); return; }
  lastPictures = performance.now();
  if (!trace) drawNetwork(diagramOf(state), null);
  drawMap(state);
}

function renderScores(state) {
  $("accuracy-row").hidden = state.task === "regression";
  $("scores-note").textContent = state.scores.test ? "" :
    `${state.config.dataset}'s ${state.n_samples} rows are all training data (a truth table is not split)`;
  ["train", "validation", "test"].forEach((split) => {
    const score = state.scores[split];
    $(`loss-${split}`).textContent = score ? fmt(score.loss) : "–";
    $(`loss-${split}`).dataset.value = score ? score.loss : "";
    const id = split === "train" ? "accuracy" : `accuracy-${split}`;
    const accuracy = score && score.accuracy !== undefined ? score.accuracy : null;
    $(id).textContent = accuracy === null ? "–" : (100 * accuracy).toFixed(1) + "%";
    $(id).dataset.value = accuracy === null ? "" : accuracy;
  });
}

// ---- the network diagram: weights as lines (width |w|, colour sign); tap or hover reads one ------------
function diagramOf(state) {
  return { sizes: state.sizes, names: state.names, biasNames: state.bias_names, weights: state.weights,
           biases: state.biases, unitMaps: state.map && state.map.unit_maps, grads: null };
}

function layout(sizes, width, roomy) {
  const shown = sizes.map((n) => Math.min(n, 16)), tallest = Math.max(...shown);
  const height = Math.max(220, (roomy ? 44 : 34) * tallest + 40), columns = sizes.length;
  const points = shown.map((n, k) => {
    const x = 60 + k * (width - 120) / Math.max(columns - 1, 1);
    return Array.from({ length: n }, (_, i) => ({ x, y: 24 + (i + 0.5) * (height - 48) / n, index: i }));
  });
  return { points, height };
}

function showInfo(text) { $("hover").textContent = text; }
// one listener for the whole drawing (hundreds of units and weights): a hover or a tap shows a part's text,
// and a tap on a weight or a bias puts it on the dial
function interactive(node, text, onTap) { node.info = text; node.tap = onTap; }
function wireDiagram() {
  const svg = $("network");
  svg.addEventListener("mouseenter", (e) => { if (e.target.info) showInfo(e.target.info); }, true);
  svg.addEventListener("mouseover", (e) => { if (e.target.info) showInfo(e.target.info); });
  svg.addEventListener("click", (e) => {
    if (!e.target.info) return;
    showInfo(e.target.info);
    if (e.target.tap) e.target.tap();
  });
}

function drawNetwork(model, overlay) {
  const svg = $("network"), width = Math.max(svg.clientWidth || 600, 280);
  const { points, height } = layout(model.sizes, width, Boolean(model.unitMaps && model.unitMaps.length));
  model.gap = (width - 120) / Math.max(model.sizes.length - 1, 1);  // room between columns for the names
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("height", height);
  svg.replaceChildren();
  drawEdges(svg, model, points);
  points.forEach((column, k) => column.forEach((p) => drawUnit(svg, model, k, p, overlay)));
  model.sizes.forEach((n, k) => {
    if (n > 16) svg.appendChild(el("svg:text", { x: points[k][0].x, y: height - 4, "text-anchor": "middle",
                                                    class: "more" }, `16 of ${n}`));
  });
}

function weightName(model, k, i, j) { return `w(${model.names[k][i]}→${model.names[k + 1][j]})`; }
function biasName(model, k, j) { return `w(${model.biasNames[k]}→${model.names[k + 1][j]}) = b`; }

function drawEdges(svg, model, points) {
  if (!model.weights) return;
  let largest = 1e-12;
  model.weights.forEach((W) => W.forEach((row) => row.forEach((w) => { largest = Math.max(largest, Math.abs(w)); })));
  model.weights.forEach((W, k) => points[k].forEach((from) => points[k + 1].forEach((to) => {
    const w = W[from.index][to.index], share = Math.abs(w) / largest;
    const ends = { x1: from.x, y1: from.y, x2: to.x, y2: to.y };
    const line = el("svg:line", { ...ends, class: "edge", stroke: w >= 0 ? "#0072b2" : "#d55e00",
                                  "stroke-width": 0.8 + 4 * share, "stroke-opacity": 0.3 + 0.65 * share });
    const hit = el("svg:line", { ...ends, class: "hit" });
    Object.assign(hit.dataset, { layer: k + 1, from: from.index + 1, to: to.index + 1 });
    Object.assign(line.dataset, hit.dataset);
    if (isDial(k + 1, "W", [from.index, to.index])) line.classList.add("selected");
    const g = model.grads && model.grads[k] ? model.grads[k][from.index][to.index] : null;
    const was = model.previous ? model.previous[k][from.index][to.index] : null;
    const text = `${weightName(model, k, from.index, to.index)} = ${fmt(w, was === null ? 6 : 9)}` +
                 (was === null ? "" : ` (was ${fmt(was, 9)}, Δw = ${fmt(w - was)})`) +
                 (g === null ? "" : `   ∂C/∂w = ${fmt(g)}`) + "   (tap: put it on the dial)";
    interactive(hit, text, () => selectDial(k + 1, "W", [from.index, to.index]));
    svg.append(line, hit);
  })));
}

function drawUnit(svg, model, k, p, overlay) {
  const name = model.names[k][p.index], hidden = k > 0 && k < model.sizes.length - 1;
  const map = hidden && model.unitMaps && model.unitMaps[k - 1] ? model.unitMaps[k - 1][p.index] : null;
  const bias = k > 0 && model.biases ? model.biases[k - 1][p.index] : null;
  const text = k === 0 ? `${name}: an input` :
    `${name}: bias ${biasName(model, k - 1, p.index)} = ${fmt(bias)}   (tap: put the bias on the dial)`;
  const onTap = k === 0 ? null : () => selectDial(k, "b", [p.index]);
  if (map) {
    const image = el("svg:image", { x: p.x - 15, y: p.y - 15, width: 30, height: 30, href: heatURL(map, unitColour),
                                    preserveAspectRatio: "none" });
    svg.appendChild(image);
  }
  const shape = el(map ? "svg:rect" : "svg:circle", map ?
    { x: p.x - 15, y: p.y - 15, width: 30, height: 30, class: "node", "fill-opacity": 0 } :
    { cx: p.x, cy: p.y, r: 14, class: "node" });
  Object.assign(shape.dataset, { layer: k, unit: p.index + 1 });
  if (k > 0 && isDial(k, "b", [p.index])) shape.classList.add("selected");
  interactive(shape, text, onTap);
  svg.appendChild(shape);
  if (!map && name.length <= 4) svg.appendChild(el("svg:text", { x: p.x, y: p.y + 4, "text-anchor": "middle" }, name));
  else if (!map) svg.appendChild(el("svg:text", { x: p.x - 17, y: p.y + 4, "text-anchor": "end" }, name));
  else if (model.gap >= 110) svg.appendChild(el("svg:text", { x: p.x - 18, y: p.y + 4, "text-anchor": "end", class: "name" }, name));
  if (overlay && overlay[k] && overlay[k][p.index] !== undefined) {
    const last = k === model.sizes.length - 1;
    const value = el("svg:text", { x: last ? p.x - 18 : p.x + 18, y: p.y - 12, class: overlay.kind,
                                   "text-anchor": last ? "end" : "start" }, fmt(overlay[k][p.index], 4));
    svg.appendChild(value);
  }
}

// ---- heat maps ---------------------------------------------------------------------------------------------
function hexColour(hex) { return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)); }
function mix(colour, t) { return colour.map((c) => Math.round(255 + (c - 255) * t)); }
const unitColour = (v) => mix(v >= 0 ? hexColour("#0072B2") : hexColour("#D55E00"), Math.min(1, Math.abs(v)));

function heatImage(canvas, n, colourAt) {
  canvas.width = n; canvas.height = n;
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    image.data.set([...colourAt(i, j), 255], 4 * ((n - 1 - i) * n + j));  // row 0 is the lowest y
  }
  ctx.putImageData(image, 0, 0);
}
function heatURL(grid, colour) {
  const canvas = document.createElement("canvas");
  heatImage(canvas, grid.length, (i, j) => colour(grid[i][j]));
  return canvas.toDataURL();
}

// each grid point takes the colour of its most probable class, paler where the network is less sure
function classColourAt(classes, i, j, discrete) {
  let best = 0;
  classes.forEach((grid, c) => { if (grid[i][j] > classes[best][i][j]) best = c; });
  const k = classes.length, sure = (classes[best][i][j] - 1 / k) / (1 - 1 / k);
  return mix(hexColour(PALETTE[best % PALETTE.length]), discrete ? 0.55 : 0.08 + 0.62 * sure);
}

function drawMap(state) {
  const canvas = $("boundary"), ctx = canvas.getContext("2d");
  const map = state.map || { kind: "images", images: [] };
  canvas.hidden = map.kind === "images";
  document.querySelector(".map-options").hidden = map.kind === "images";
  $("units").replaceChildren();
  $("legend").replaceChildren();
  $("digits").replaceChildren();
  if (map.kind === "images") {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    drawDigits(map);
    return;
  }
  canvas.width = 300; canvas.height = 300;
  if (map.kind === "plane") drawPlane(ctx, state, map); else drawCurve(ctx, state, map);
  drawUnitMaps(state, map);
}

function toCanvas(map, size) {
  const [x0, x1, y0, y1] = map.kind === "plane" ? map.extent : [map.extent[0], map.extent[1], ...map.yRange];
  return (x, y) => [(x - x0) / (x1 - x0) * size, (1 - (y - y0) / (y1 - y0)) * size];
}

function drawPlane(ctx, state, map) {
  const heat = document.createElement("canvas"), discrete = $("discretize").checked;
  heatImage(heat, map.classes[0].length, (i, j) => classColourAt(map.classes, i, j, discrete));
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(heat, 0, 0, 300, 300);
  const at = toCanvas(map, 300);
  const dot = ([x, y], label, test) => {
    const [px, py] = at(x, y);
    ctx.beginPath(); ctx.arc(px, py, 4, 0, 2 * Math.PI);
    ctx.fillStyle = PALETTE[label % PALETTE.length];
    ctx.strokeStyle = test ? "#000" : "#fff"; ctx.lineWidth = test ? 1.6 : 1;
    ctx.fill(); ctx.stroke();
  };
  map.points.forEach((p, i) => dot(p, map.labels[i], false));
  if ($("show-test").checked) map.test_points.forEach((p, i) => dot(p, map.test_labels[i], true));
  $("map-title").textContent = `(${map.classes.length} classes)`;
  $("legend").replaceChildren(...map.classes.map((_, c) => {
    const item = el("span"); item.append(el("i", { style: `background:${PALETTE[c % PALETTE.length]}` }), `class ${c}`);
    return item;
  }));
  $("boundary-note").textContent = "background: the class the network picks, paler where it is less sure; " +
    "dots: training samples (white ring)" + ($("show-test").checked ? ", test samples (black ring)" : "");
}

function drawCurve(ctx, state, map) {
  const ys = [...map.curve_y, ...map.points.map((p, i) => map.labels[i])];
  const low = Math.min(...ys), high = Math.max(...ys), pad = 0.1 * (high - low + 1e-9);
  map.yRange = [low - pad, high + pad];
  const at = toCanvas(map, 300);
  ctx.fillStyle = "white"; ctx.fillRect(0, 0, 300, 300);
  const dot = (x, y, test) => { const [px, py] = at(x, y); ctx.beginPath(); ctx.arc(px, py, 3, 0, 2 * Math.PI);
    ctx.fillStyle = test ? "#E69F00" : "#0072B2"; ctx.fill(); };
  map.points.forEach((p, i) => dot(p[0], map.labels[i], false));
  if ($("show-test").checked) map.test_points.forEach((p, i) => dot(p[0], map.test_labels[i], true));
  ctx.beginPath(); ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
  map.curve_x.forEach((x, i) => { const [px, py] = at(x, map.curve_y[i]); if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py); });
  ctx.stroke();
  $("map-title").textContent = "(regression)";
  $("boundary-note").textContent = "black line: the network's ŷ over x1; blue dots: training samples" +
    ($("show-test").checked ? "; orange: test samples" : "");
}

// digits: no plane to draw; the first test images with the network's answers instead
function drawDigits(map) {
  if (!map.images.length) return;
  $("map-title").textContent = "(test digits)";
  $("boundary-note").textContent = `digits has ${map.images[0].length * map.images[0][0].length} inputs: there ` +
    "is no plane to draw; here are the first test digits with the network's answers (✓ right, ✗ wrong)";
  $("digits").replaceChildren(...map.images.map((image, i) => {
    const figure = el("figure"), small = el("canvas");
    heatImage(small, image.length, (a, b) => mix([0, 0, 0], image[image.length - 1 - a][b]));
    const right = map.answers[i] === map.labels[i];
    figure.append(small, el("figcaption", { class: right ? "right" : "wrong" },
                            `${map.labels[i]} → ${map.answers[i]} ${right ? "✓" : "✗"}`));
    return figure;
  }));
}

function drawUnitMaps(state, map) {
  if (!map.unit_maps) return;
  map.unit_maps.forEach((layer, k) => {
    const row = el("div", { class: "unit-layer" });
    row.appendChild(el("span", {}, `hidden layer ${k + 1}: each unit's output over the plane (blue +, orange −)` +
      (state.sizes[k + 1] > layer.length ? `, ${layer.length} of ${state.sizes[k + 1]} units` : "")));
    layer.forEach((grid, j) => {
      const figure = el("figure"), small = el("canvas", { title: state.names[k + 1][j] });
      heatImage(small, grid.length, (a, b) => unitColour(grid[a][b]));
      figure.append(small, el("figcaption", {}, state.names[k + 1][j]));
      row.appendChild(figure);
    });
    $("units").appendChild(row);
  });
}

// ---- learning curves: the whole run (downsampled), with axes; log scale optional --------------------------
function ticks(low, high, count) {
  const step = Math.pow(10, Math.floor(Math.log10((high - low) / count || 1)));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (high - low) / s <= count) || step * 10;
  const out = [];
  for (let v = Math.ceil(low / nice) * nice; v <= high + 1e-12; v += nice) out.push(Number(v.toPrecision(6)));
  return out;
}

function drawCurves(h) {
  const svg = $("curves"), width = Math.max(svg.clientWidth || 380, 260), height = 200;
  const left = 46, right = 34, top = 8, bottom = 28, plotW = width - left - right, plotH = height - top - bottom;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`); svg.setAttribute("height", height);
  svg.replaceChildren();
  if (!h.epochs.length) { svg.appendChild(el("svg:text", { x: left, y: 40 }, "no epochs yet: press start")); return; }
  const log = $("log-scale").checked, costs = [...h.loss, ...h.val_loss].filter((v) => v > 0 || !log);
  const transform = (v) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
  let lo = Math.min(...costs.map(transform)), hi = Math.max(...costs.map(transform));
  if (!log) lo = Math.min(0, lo);
  if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  const e0 = h.epochs[0], e1 = Math.max(h.epochs[h.epochs.length - 1], e0 + 1);
  const X = (e) => left + plotW * (e - e0) / (e1 - e0), Y = (v) => top + plotH * (1 - (transform(v) - lo) / (hi - lo));
  const A = (a) => top + plotH * (1 - a);
  drawAxes(svg, { left, top, plotW, plotH, X, e0, e1, lo, hi, log, A, width, accuracy: h.accuracy.length > 0 });
  document.querySelectorAll(".l-acc, .l-vacc").forEach((item) => { item.hidden = !h.accuracy.length; });
  const series = [[h.loss, "#0072b2", Y, ""], [h.val_loss, "#d55e00", Y, ""], [h.accuracy, "#009e73", A, "5 3"],
                  [h.val_accuracy, "#cc79a7", A, "5 3"]];
  series.forEach(([values, colour, y, dash]) => {
    if (!values.length) return;
    svg.appendChild(el("svg:polyline", { points: values.map((v, i) => `${X(h.epochs[i])},${y(v)}`).join(" "),
                                         fill: "none", stroke: colour, "stroke-width": 1.6, "stroke-dasharray": dash }));
  });
}

function drawAxes(svg, a) {
  svg.appendChild(el("svg:rect", { x: a.left, y: a.top, width: a.plotW, height: a.plotH, fill: "none", stroke: "#ccc" }));
  ticks(a.e0, a.e1, 5).forEach((e) => {
    svg.appendChild(el("svg:text", { x: a.X(e), y: a.top + a.plotH + 14, "text-anchor": "middle" }, fmt(e, 4)));
  });
  svg.appendChild(el("svg:text", { x: a.left + a.plotW / 2, y: a.top + a.plotH + 26, "text-anchor": "middle" }, "epoch"));
  const costTicks = a.log ? ticks(Math.floor(a.lo), Math.ceil(a.hi), 4).filter((v) => v >= a.lo && v <= a.hi) : ticks(a.lo, a.hi, 4);
  costTicks.forEach((v) => {
    const y = a.top + a.plotH * (1 - (v - a.lo) / (a.hi - a.lo));
    svg.appendChild(el("svg:text", { x: a.left - 4, y: y + 4, "text-anchor": "end" }, a.log ? `1e${v}` : fmt(v, 3)));
  });
  svg.appendChild(el("svg:text", { x: 4, y: a.top + 10 }, a.log ? "cost (log)" : "cost"));
  if (a.accuracy) [0, 0.5, 1].forEach((v) => svg.appendChild(el("svg:text", { x: a.left + a.plotW + 4, y: a.A(v) + 4 }, `${100 * v}%`)));
}

// ---- dials: pick a weight or a bias, turn it, compare the real cost change with the predicted one ---------
function drawDials(dials) {
  const list = $("dials");
  $("dials-empty").hidden = Boolean(dials && dials.length);
  list.replaceChildren(...(dials || []).map((d) => {
    const up = d.direction === "turn up";
    const item = el("li", { tabindex: 0 });
    item.innerHTML = `${parameterName(d.layer, d.kind, d.index)} = ${fmt(d.value)}, ∂C/∂w = ${fmt(d.gradient)} ` +
                     `<span class="${up ? "up" : "down"}">${up ? "▲" : "▼"} ${d.direction}</span>`;
    item.onclick = () => selectDial(d.layer, d.kind, d.index);
    return item;
  }));
}

function isDial(layer, kind, index) {
  return dialTarget !== null && dialTarget.layer === layer && dialTarget.kind === kind &&
         dialTarget.index.join() === index.join();
}
// a weight's or a bias's name as the diagram writes it (inputs by their feature: w(sin x1→z1))
function parameterName(layer, kind, index) {
  const model = diagramOf(snap);
  return kind === "W" ? weightName(model, layer - 1, index[0], index[1]) :
    `w(${model.biasNames[layer - 1]}→${model.names[layer][index[0]]})`;
}
function clearDial() { dialTarget = null; $("dial-box").hidden = true; }

function selectDial(layer, kind, index) {
  dialTarget = { layer, kind, index };
  $("dial-slider").value = 0; $("dial-delta").value = 0;
  $("dial-box").hidden = false;
  turnDial(0);
}

async function turnDial(delta) {
  if (!dialTarget || !session) return;
  if (dialBusy) { dialQueued = delta; return; }  // at most one request in flight; the latest value wins
  dialBusy = true;
  try {
    const answer = await post(`/api/sessions/${session}/dial`, { ...dialTarget, delta });
    showDial(answer.dial);
    clearTrace();
    render(answer.snapshot, true);
  } catch (e) { showError(e.message); }
  dialBusy = false;
  if (dialQueued !== null) { const next = dialQueued; dialQueued = null; turnDial(next); }
}

function showDial(d) {
  const put = (id, v) => { $(id).textContent = fmt(v, 8); $(id).dataset.value = v; };
  $("dial-name").textContent = parameterName(d.layer, d.kind, d.index);
  $("dial-box").dataset.delta = d.delta;
  put("dial-origin", d.origin); put("dial-gradient", d.gradient); put("dial-value", d.value);
  put("dial-cost-origin", d.cost_at_origin); put("dial-cost", d.cost);
  put("dial-real", d.real_change); put("dial-predicted", d.predicted_change);
}

// ---- step-through -----------------------------------------------------------------------------------------
function clearTrace() {
  trace = null; stages = []; stageIndex = 0;
  $("step-empty").hidden = false;
  $("stage").textContent = ""; $("step-summary").textContent = "";
  $("next-stage").disabled = $("prev-stage").disabled = $("sample").disabled = true;
  $("trace-table").querySelector("thead").replaceChildren();
  $("trace-table").querySelector("tbody").replaceChildren();
  $("formulas").replaceChildren(); $("stage-list").replaceChildren(); $("pager").hidden = true;
}

async function stepThrough() {
  if (!session) return;
  showError("");
  let answer;
  try { answer = await post(`/api/sessions/${session}/step`); } catch (e) { showError(e.message); return; }
  trace = answer;
  clearDial();  // the step moved every weight: a dial starts again from the new values
  $("step-empty").hidden = true;
  const L = trace.layers.length;
  stages = [{ kind: "batch", title: "the batch" }];
  trace.layers.forEach((l, k) => stages.push({ kind: "forward", layer: k, title: `forward: layer ${l.index}` }));
  stages.push({ kind: "cost", title: "cost" });
  for (let k = L - 1; k >= 0; k--) stages.push({ kind: "backward", layer: k, title: `δ of layer ${k + 1}` });
  stages.push({ kind: "update", title: "gradients and update" });
  const partial = trace.rows_shown < trace.n_samples;  // a large batch: the server sent its first rows
  $("sample").replaceChildren(new Option(partial ? `the batch's first ${trace.rows_shown} of ${trace.n_samples}` :
                                                   `the whole batch (${trace.n_samples})`, "all"),
    ...trace.x.map((_, s) => new Option(`sample ${s + 1}`, String(s))));
  $("sample").value = trace.n_samples > 1 ? "all" : "0";
  $("sample").disabled = false;
  $("stage-list").replaceChildren(...stages.map((s, i) => {
    const item = el("li", {}, `${i + 1}. ${s.title}`); item.onclick = () => goTo(i); return item;
  }));
  goTo(0);
}

function goTo(index) { stageIndex = index; page = 0; showStage(); }
function chosenSamples() {
  const v = $("sample").value;
  return v === "all" ? trace.x.map((_, s) => s) : [Number(v)];
}

function showStage() {
  const stage = stages[stageIndex];
  [...$("stage-list").children].forEach((item, i) => item.classList.toggle("current", i === stageIndex));
  $("stage").textContent = `stage ${stageIndex + 1} of ${stages.length}: ${stage.title}`;
  const view = { head: [], rows: [], lines: [], overlay: null, weights: "old" };
  ({ batch: batchStage, forward: forwardStage, cost: costStage, backward: backwardStage,
     update: updateStage })[stage.kind](stage, view);
  fillTable(view);
  const f = $("formulas"); f.replaceChildren();
  view.lines.forEach((line) => f.appendChild(typeof line === "string" ? document.createTextNode(line + "\n") : line));
  drawNetwork(traceDiagram(view.weights), view.overlay);
  $("next-stage").disabled = stageIndex >= stages.length - 1;
  $("prev-stage").disabled = stageIndex === 0;
  $("step-summary").innerHTML = `batch of <b id="batch-size">${trace.n_samples}</b> sample(s), α = ${trace.learning_rate}, ` +
    `${trace.optimizer}; cost on this batch <b id="cost-before" data-value="${trace.cost_before}">${fmt(trace.cost_before, 10)}</b>` +
    (stage.kind === "update" ? ` → <b id="cost-after" data-value="${trace.cost_after_applied}">${fmt(trace.cost_after_applied, 10)}</b>` : "") +
    (trace.rows_shown < trace.n_samples ? `; tables show the first ${trace.rows_shown} samples` : "") +
    (trace.weights_shown !== "all" ? `; ${trace.weights_shown} (sums run over every unit)` : "");
}

// the diagram during a step shows the weights the stage used: the old ones until the update, then the new ones
function traceDiagram(which) {
  const shown = snap.sizes.map((n) => Math.min(n, 16));
  const cut = (W, k) => W.slice(0, shown[k]).map((row) => row.slice(0, shown[k + 1]));
  const key = which === "old" ? ["W", "b"] : ["W_applied", "b_applied"];
  return { ...diagramOf(snap), weights: trace.layers.map((l, k) => cut(l[key[0]], k)),
           previous: which === "old" ? null : trace.layers.map((l, k) => cut(l.W, k)),
           biases: trace.layers.map((l, k) => l[key[1]].slice(0, shown[k + 1])),
           grads: trace.layers.map((l, k) => cut(l.grad_W, k)) };
}

function cellOf(value, data, digits) {
  const td = el("td");
  td.textContent = typeof value === "number" ? fmt(value, digits) : value;
  if (typeof value === "number") td.dataset.value = String(value);
  Object.assign(td.dataset, data);
  return td;
}
function labelCell(text) { return el("td", { class: "label" }, text); }

function fillTable(view) {
  const head = $("trace-table").querySelector("thead"), body = $("trace-table").querySelector("tbody");
  const tr = el("tr"); view.head.forEach((h) => tr.appendChild(el("th", {}, h)));
  head.replaceChildren(tr);
  const pages = Math.max(1, Math.ceil(view.rows.length / PAGE_ROWS));
  page = Math.min(page, pages - 1);
  body.replaceChildren(...view.rows.slice(page * PAGE_ROWS, (page + 1) * PAGE_ROWS));
  $("pager").hidden = pages <= 1;
  $("page-label").textContent = `rows ${page * PAGE_ROWS + 1}–${Math.min(view.rows.length, (page + 1) * PAGE_ROWS)} ` +
    `of ${view.rows.length}` + (view.sorted ? " (largest |∂C/∂w| first)" : "");
}

const what = (text) => el("span", { class: "what" }, text + "\n");
const unitNames = (k) => snap.names[k];

function batchStage(stage, view) {
  const inputs = unitNames(0), n = trace.n_samples, outputs = trace.y[0].length;
  view.head = ["sample", ...inputs, ...Array.from({ length: outputs }, (_, j) => outputs === 1 ? "target y" : `y${j + 1}`)];
  view.lines.push(what(`The step uses a batch of n = ${n} training sample(s): the inputs x and the targets y ` +
    "(one-hot: a 1 for the true class). The cost is the mean over the batch, so every δ at the output carries a 1/n."));
  const chosen = chosenSamples();
  trace.x.forEach((row, s) => {
    const tr = el("tr", { class: chosen.includes(s) && chosen.length === 1 ? "chosen" : "" });
    tr.appendChild(labelCell(`${s + 1}`));
    row.forEach((v, i) => tr.appendChild(cellOf(v, { kind: "x", sample: s + 1, unit: i + 1 })));
    trace.y[s].forEach((v, j) => tr.appendChild(cellOf(v, { kind: "y", sample: s + 1, unit: j + 1 })));
    view.rows.push(tr);
  });
  view.overlay = Object.assign([trace.x[chosen[0]]], { kind: "value" });
}

const MAX_TERMS = 6;
function sumTerms(pairs) {  // "w·v + w·v + …" with at most MAX_TERMS terms written out
  const shown = pairs.slice(0, MAX_TERMS).map(([w, v]) => `${paren(w)}·${paren(v)}`).join(" + ");
  return pairs.length > MAX_TERMS ? `${shown} + … (${pairs.length - MAX_TERMS} more)` : shown;
}

function forwardStage(stage, view) {
  const l = trace.layers[stage.layer], k = l.index, below = unitNames(k - 1), here = unitNames(k);
  const bias = snap.bias_names[k - 1], samples = chosenSamples();
  view.head = ["sample", "unit", "a = Σ w·input + b", `z = ${l.activation}(a)`];
  view.lines.push(what(`Each unit of layer ${k} adds up its inputs times their weights, plus its bias ` +
    `(the weight from the bias unit ${bias} = 1), then applies ${l.activation}.`));
  samples.slice(0, 2).forEach((s) => here.forEach((name, j) => {
    if (j >= 4) return;
    const pairs = [[l.b[j], 1], ...l.x[s].map((v, i) => [l.W[i][j], v])];
    view.lines.push(`${samples.length > 1 ? `sample ${s + 1}: ` : ""}a(${name}) = ${sumTerms(pairs)} = ${fmt(l.a[s][j])}`);
    view.lines.push(`${" ".repeat(samples.length > 1 ? 11 : 0)}${name} = ${l.activation}(${fmt(l.a[s][j])}) = ${fmt(l.z[s][j])}`);
  }));
  if (here.length > 4 || samples.length > 2) view.lines.push(what("… the table lists every unit" + (samples.length > 1 ? " of every sample." : ".")));
  view.lines.push(what(`inputs: ${below.slice(0, 8).join(", ")}${below.length > 8 ? ", …" : ""} (the layer below)`));
  samples.forEach((s) => here.forEach((name, j) => {
    const tr = el("tr");
    tr.append(labelCell(`${s + 1}`), labelCell(name),
              cellOf(l.a[s][j], { kind: "a", sample: s + 1, layer: k, unit: j + 1 }),
              cellOf(l.z[s][j], { kind: "z", sample: s + 1, layer: k, unit: j + 1 }));
    view.rows.push(tr);
  }));
  view.overlay = Object.assign([trace.x[samples[0]], ...trace.layers.slice(0, stage.layer + 1).map((r) => r.z[samples[0]])],
                               { kind: "value" });
}

function costTerm(cost, yhat, y) {
  if (cost === "quadratic") return `½(${fmt(yhat)} − ${fmt(y)})²`;
  if (cost === "binary_cross_entropy") return `${fmt(y)}·log ${fmt(yhat)} + ${fmt(1 - y)}·log(1 − ${fmt(yhat)})`;
  return y ? `${fmt(y)}·log ${fmt(yhat)}` : null;  // cross-entropy: only the true class's term is non-zero
}

function costStage(stage, view) {
  const last = trace.layers[trace.layers.length - 1], n = trace.n_samples, samples = chosenSamples();
  view.head = ["sample", "output", "ŷ", "y"];
  view.lines.push(what(`The cost compares the outputs ŷ with the targets y: ${trace.cost_formula}` +
    (trace.l2 ? ` + (${trace.l2}/2)·Σ‖W‖² (L2)` : "") + (trace.l1 ? ` + ${trace.l1}·Σ|W| (L1)` : "")));
  const terms = [];
  samples.forEach((s) => last.z[s].forEach((yhat, j) => { const t = costTerm(trace.cost, yhat, trace.y[s][j]); if (t) terms.push(t); }));
  const sign = trace.cost === "quadratic" ? "" : "−";
  const written = terms.slice(0, MAX_TERMS).join(" + ") + (terms.length > MAX_TERMS ? ` + … (${terms.length - MAX_TERMS} more)` : "");
  view.lines.push(`C = ${sign}(1/${n})·[${written}${samples.length < n ? " + the other samples' terms" : ""}]` +
    (trace.l2 || trace.l1 ? " + the penalty on the weights" : ""));
  view.lines.push(`C = ${fmt(trace.cost_before, 10)}   (the engine's value, on the whole batch)`);
  samples.forEach((s) => last.z[s].forEach((yhat, j) => {
    const tr = el("tr");
    tr.append(labelCell(`${s + 1}`), labelCell(unitNames(last.index)[j]),
              cellOf(yhat, { kind: "yhat", sample: s + 1, unit: j + 1 }),
              cellOf(trace.y[s][j], { kind: "y", sample: s + 1, unit: j + 1 }));
    view.rows.push(tr);
  }));
  view.overlay = Object.assign([trace.x[samples[0]], ...trace.layers.map((r) => r.z[samples[0]])], { kind: "value" });
}

function deltaFormula(l, above, s, j) {
  const name = unitNames(l.index)[j], d = l.delta[s][j], n = trace.n_samples;
  if (!above && trace.fused) {
    return `δ(${name}) = (ŷ − y)/n = (${fmt(l.z[s][j])} − ${fmt(trace.y[s][j])})/${n} = ${fmt(d)}` +
           `   [${l.activation} with ${trace.cost}: f'(a) cancels]`;
  }
  if (!above) {
    return l.fprime ? `δ(${name}) = ∂C/∂ŷ · f'(a) = ${paren(l.grad_z[s][j])} · ${paren(l.fprime[s][j])} = ${fmt(d)}` :
      `δ(${name}) = ${fmt(d)}   [${l.activation} couples the units: δ = ŷ ⊙ (g − Σ g·ŷ), g = ∂C/∂ŷ]`;
  }
  const pairs = above.W[j].map((w, m) => [w, above.delta[s][m]]);
  return `δ(${name}) = f'(a)·Σ w·δ_above = ${l.activation}'(${fmt(l.a[s][j])})·(${sumTerms(pairs)})` +
         ` = ${paren(l.fprime[s][j])}·${paren(l.grad_z[s][j])} = ${fmt(d)}`;
}

function backwardStage(stage, view) {
  const l = trace.layers[stage.layer], above = trace.layers[stage.layer + 1], samples = chosenSamples();
  const fusedOutput = !above && trace.fused;
  view.head = fusedOutput ? ["sample", "unit", "ŷ", "y", `δ = (ŷ − y)/${trace.n_samples}`] :
    ["sample", "unit", above ? "∂C/∂z = Σ w·δ_above" : "∂C/∂ŷ", "f'(a)", "δ = ∂C/∂a"];
  view.lines.push(what(above ? `Chain rule: each unit's δ is its slope f'(a) times the δs of layer ${above.index}, ` +
    "weighted by the (old) weights that connect them." : "The output layer's δ: how the cost changes with each output's weighted sum."));
  samples.slice(0, 2).forEach((s) => l.delta[s].forEach((_, j) => {
    if (j < 4) view.lines.push((samples.length > 1 ? `sample ${s + 1}: ` : "") + deltaFormula(l, above, s, j));
  }));
  samples.forEach((s) => l.delta[s].forEach((d, j) => {
    const tr = el("tr");
    const at = { sample: s + 1, layer: l.index, unit: j + 1 };
    tr.append(labelCell(`${s + 1}`), labelCell(unitNames(l.index)[j]));
    if (fusedOutput) tr.append(cellOf(l.z[s][j], { kind: "yhat", ...at }), cellOf(trace.y[s][j], { kind: "y", ...at }));
    else tr.append(cellOf(l.grad_z[s][j], { kind: "grad_z", ...at }),
                   l.fprime ? cellOf(l.fprime[s][j], { kind: "fprime", ...at }) : labelCell("(coupled)"));
    tr.appendChild(cellOf(d, { kind: "delta", ...at }));
    view.rows.push(tr);
  }));
  const overlay = snap.sizes.map(() => undefined);
  for (let k = stage.layer; k < trace.layers.length; k++) overlay[k + 1] = trace.layers[k].delta[samples[0]];
  view.overlay = Object.assign(overlay, { kind: "delta" });
}

// every weight and bias as one row, largest |∂C/∂w| first
function parameterRows() {
  const rows = [];
  trace.layers.forEach((l) => {
    const k = l.index;
    l.W.forEach((r, i) => r.forEach((w, j) => rows.push({ k, i: i + 1, j, name: `w(${unitNames(k - 1)[i]}→${unitNames(k)[j]})`,
      old: w, grad: l.grad_W[i][j], plain: l.W_new[i][j], applied: l.W_applied[i][j], input: (s) => l.x[s][i], kinds: ["W", "grad_W", "W_new", "W_applied"] })));
    l.b.forEach((b, j) => rows.push({ k, i: 0, j, name: `b = w(${snap.bias_names[k - 1]}→${unitNames(k)[j]})`,
      old: b, grad: l.grad_b[j], plain: l.b_new[j], applied: l.b_applied[j], input: () => 1, kinds: ["b", "grad_b", "b_new", "b_applied"] }));
  });
  return rows.sort((p, q) => Math.abs(q.grad) - Math.abs(p.grad));
}

function gradientFormula(p, samples) {
  const l = trace.layers[p.k - 1], all = samples.length === trace.n_samples;
  const pairs = samples.map((s) => [p.input(s), l.delta[s][p.j]]);
  const weight = p.i && p.name.startsWith("w(");
  const penalty = (trace.l2 && weight ? ` + ${trace.l2}·${paren(p.old)} (L2)` : "") +
                  (trace.l1 && weight ? ` + ${trace.l1}·sign(${fmt(p.old)}) (L1)` : "");
  const head = all ? `∂C/∂${p.name.split(" = ")[0]} = Σ over the batch of input·δ = ${sumTerms(pairs)}${penalty} = ${fmt(p.grad)}` :
    `sample ${samples[0] + 1}'s share of ∂C/∂${p.name.split(" = ")[0]}: input·δ = ${sumTerms(pairs)} = ${fmt(pairs[0][0] * pairs[0][1])}` +
    `  (the batch's sum: ${fmt(p.grad)})`;
  const update = trace.optimizer === "sgd" ?
    `new value = w − α·∂C/∂w = ${fmt(p.old, 9)} − ${trace.learning_rate}·${paren(p.grad)} = ${fmt(p.applied, 9)}   (Δw = ${fmt(p.applied - p.old)})` :
    `plain rule w − α·∂C/∂w = ${fmt(p.plain, 9)}; ${trace.optimizer} moved it to ${fmt(p.applied, 9)} (Δw = ${fmt(p.applied - p.old)})`;
  return [head, "    " + update];
}

function updateStage(stage, view) {
  const rows = parameterRows(), samples = chosenSamples(), sgd = trace.optimizer === "sgd";
  view.weights = "new";
  view.sorted = true;
  view.head = ["parameter", "w (old)", "∂C/∂w", sgd ? "new w = w − α·∂C/∂w" : "w − α·∂C/∂w", ...(sgd ? [] : [`new w (${trace.optimizer})`]), "Δw"];
  view.lines.push(what("Each gradient is the batch's sum of input·δ (δ already carries the 1/n of the mean); " +
    (sgd ? `then every weight moves against its gradient: w − α·∂C/∂w with α = ${trace.learning_rate}.` :
      `then ${trace.optimizer} turns the gradients into the step it takes (its own rule, α = ${trace.learning_rate}).`)));
  rows.slice(0, 3).forEach((p) => view.lines.push(...gradientFormula(p, samples)));
  view.lines.push(`cost on this batch: ${fmt(trace.cost_before, 10)} → ${fmt(trace.cost_after_applied, 10)}` +
    (trace.cost_after_applied < trace.cost_before ? " (down)" : " (NOT down: is α too large?)"));
  rows.forEach((p) => {
    const tr = el("tr"), at = { layer: p.k, from: p.i, to: p.j + 1 };
    tr.append(labelCell(p.name), cellOf(p.old, { kind: p.kinds[0], ...at }, 9), cellOf(p.grad, { kind: p.kinds[1], ...at }, 9),
              cellOf(p.plain, { kind: p.kinds[2], ...at }, 9));
    if (!sgd) tr.appendChild(cellOf(p.applied, { kind: p.kinds[3], ...at }, 9));
    tr.appendChild(cellOf(p.applied - p.old, { kind: "change", ...at }, 4));
    view.rows.push(tr);
  });
}

// ---- model files ------------------------------------------------------------------------------------------
async function upload(file) {
  showError("");
  try {
    const state = await api(`/api/sessions/${session}/model`, { method: "POST", body: await file.arrayBuffer() });
    clearTrace(); clearDial(); snap = null;
    $("hidden").value = state.config.hidden.join(","); buildLayerButtons();
    render(state);
    notify(`loaded ${file.name}: ${state.network}`);
  } catch (e) { showError(e.message); }
}

// ---- start-up ---------------------------------------------------------------------------------------------
function fillSelects() {
  const fill = (id, values, chosen) => {
    $(id).replaceChildren(...values.map((v) => (Array.isArray(v) ? new Option(v[1], v[0]) : new Option(v, v))));
    $(id).value = chosen;
  };
  fill("dataset", options.datasets.map((name) => [name, name]), "xor");
  [...$("dataset").options].forEach((option) => { option.title = options.descriptions[option.value]; }); fill("activation", options.activations, "tanh");
  fill("cost", options.costs, "auto"); fill("optimizer", options.optimizers, "sgd");
  fill("lr", LEARNING_RATES, "0.1"); fill("l2", L2_VALUES, "0"); fill("l1", L2_VALUES, "0"); fill("speed", SPEEDS, "0");
}

function wire() {
  $("dataset").onchange = () => { buildFeatureBoxes(null); rebuild(`dataset: ${$("dataset").value}`); };
  ["activation", "cost", "seed"].forEach((id) => { $(id).onchange = () => rebuild(`${id}: ${$(id).value}`); });
  $("hidden").onchange = () => setHidden(hiddenLayers(), `hidden layers ${$("hidden").value || "none"}`);
  $("noise").oninput = () => { $("noise-value").textContent = $("noise").value; };
  $("noise").onchange = () => rebuild(`noise ${$("noise").value}`);
  $("test").oninput = () => { $("test-value").textContent = `${$("test").value}%`; };
  $("test").onchange = () => rebuild(`${$("test").value}% test data`);
  $("regenerate").onclick = () => { dataSeed += 1; rebuild("new data"); };
  $("layer-plus").onclick = () => changeLayers(+1);
  $("layer-minus").onclick = () => changeLayers(-1);
  ["lr", "optimizer", "batch", "l2", "l1", "speed"].forEach((id) => { $(id).onchange = changeLive; });
  ["show-test", "discretize"].forEach((id) => { $(id).onchange = () => { saveToUrl(); if (snap) drawMap(snap); }; });
  $("log-scale").onchange = () => { saveToUrl(); if (snap) drawCurves(snap.history); };
  $("start").onclick = () => { clearTrace(); act(snap && snap.running ? "pause" : "start"); };
  $("reset").onclick = () => rebuild("reset with the settings shown");
  $("step").onclick = stepThrough;
  $("next-stage").onclick = () => { if (stageIndex < stages.length - 1) goTo(stageIndex + 1); };
  $("prev-stage").onclick = () => { if (stageIndex > 0) goTo(stageIndex - 1); };
  $("sample").onchange = () => { page = 0; showStage(); };
  $("page-prev").onclick = () => { page = Math.max(0, page - 1); showStage(); };
  $("page-next").onclick = () => { page += 1; showStage(); };
  $("dial-slider").oninput = () => { $("dial-delta").value = $("dial-slider").value; turnDial(Number($("dial-slider").value)); };
  $("dial-delta").onchange = () => { $("dial-slider").value = $("dial-delta").value; turnDial(Number($("dial-delta").value)); };
  $("download").onclick = (e) => { if (!session) { e.preventDefault(); return; } $("download").href = `/api/sessions/${session}/model`; };
  $("upload").onchange = (e) => { if (e.target.files.length) upload(e.target.files[0]); };
  window.addEventListener("resize", () => { if (snap) { if (trace) showStage(); else drawNetwork(diagramOf(snap), null); drawCurves(snap.history); } });
  // the page going away releases its session; a reload (sessionStorage) or a return from the back-forward
  // cache claims it back
  window.addEventListener("pagehide", () => { if (session) navigator.sendBeacon(`/api/sessions/${session}/release`, token); });
  window.addEventListener("pageshow", (e) => { if (e.persisted && session) api(`/api/sessions/${session}/claim`, { method: "POST" }).catch(() => newSession()); });
}

async function init() {
  options = await api("/api/options");
  fillSelects();
  loadFromUrl();
  buildLayerButtons();
  wire();
  wireDiagram();
  $("noise-value").textContent = $("noise").value; $("test-value").textContent = `${$("test").value}%`;
  await resume();
  saveToUrl();
}
init().catch((e) => showError(e.message));
