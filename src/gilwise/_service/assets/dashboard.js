// The gilwise serve dashboard: one EventSource on /live, six plotly charts, the mode switch and
// the latest bench run. Everything comes from this server; nothing from the network.
"use strict";

const KEEP = 120;  // seconds of history on the time charts
const COLORS = { inline: "#c0392b", threads: "#e67e22", processes: "#1e8449", auto: "#2471a3", dask: "#7d3c98" };
const history = [];
let modes = {};
const layoutBase = {
  margin: { l: 48, r: 12, t: 34, b: 28 },
  font: { size: 11 },
  showlegend: true,
  legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0 },
  paper_bgcolor: "#fff",
  plot_bgcolor: "#fff",
};
const config = { displayModeBar: false, responsive: true, staticPlot: false };

function $(id) { return document.getElementById(id); }
function fmt(value, digits) { return value === null || value === undefined ? "—" : value.toFixed(digits); }

function modeSegments() {
  const segments = [];
  for (const m of history) {
    const at = new Date(m.t * 1000);
    const last = segments[segments.length - 1];
    if (last && last.mode === m.offload.mode) { last.to = at; } else { segments.push({ mode: m.offload.mode, from: at, to: at }); }
  }
  return segments;
}

function timeLayout(extra, labelled) {
  const segments = modeSegments();
  const shapes = segments.map((s) => ({
    type: "rect", xref: "x", yref: "paper", x0: s.from, x1: s.to, y0: 0, y1: 1,
    fillcolor: COLORS[s.mode] || "#888", opacity: 0.09, line: { width: 0 }, layer: "below",
  }));
  const annotations = labelled ? segments.map((s) => ({
    x: s.from, y: 0.98, xref: "x", yref: "paper", xanchor: "left", yanchor: "top", showarrow: false,
    text: `<b>${s.mode}</b>`, font: { color: COLORS[s.mode] || "#444", size: 12 },
  })) : [];
  return Object.assign({}, layoutBase, { shapes, annotations, xaxis: { type: "date", tickformat: "%H:%M:%S" } }, extra);
}

function series(pick) { return history.map((m) => { const v = pick(m); return v === undefined ? null : v; }); }

function draw() {
  const times = history.map((m) => new Date(m.t * 1000));
  const last = history[history.length - 1];
  // The usable cores (a container's CPU quota included), unless more are busy: the host's others.
  const cores = Math.max(last.usable_cores, ...history.map((m) => m.busy_cores));

  Plotly.react("chart-cores", [{
    type: "bar", x: last.cpu_per_core.map((_, i) => `core ${i}`), y: last.cpu_per_core.map((c) => c * 100),
    marker: { color: last.cpu_per_core.map((c) => (c > 0.9 ? "#c0392b" : c > 0.5 ? "#e67e22" : "#1e8449")) },
    text: last.cpu_per_core.map((c) => `${(c * 100).toFixed(0)} %`), textposition: "auto", name: "busy",
  }], Object.assign({}, layoutBase, { showlegend: false, yaxis: { range: [0, 100], title: { text: "% busy" } } }), config);

  Plotly.react("chart-cpu", [
    { x: times, y: series((m) => m.server_cores), name: "server process", mode: "lines", line: { color: "#e67e22", width: 2 } },
    { x: times, y: series((m) => m.worker_cores), name: "offload workers", mode: "lines", line: { color: "#1e8449", width: 2 } },
    { x: times, y: series((m) => m.busy_cores), name: "all processes, its cores", mode: "lines", line: { color: "#7f8c8d", dash: "dot" } },
  ], timeLayout({ yaxis: { range: [0, cores * 1.05], title: { text: "cores" } } }, true), config);

  Plotly.react("chart-lag", [
    { x: times, y: series((m) => m.loop_lag_ms.p99), name: "p99", mode: "lines", line: { color: "#c0392b" } },
    { x: times, y: series((m) => m.loop_lag_ms.p50), name: "p50", mode: "lines", line: { color: "#2471a3" } },
  ], timeLayout({ yaxis: { title: { text: "ms" }, rangemode: "tozero" } }, false), config);

  const routes = [...new Set(history.flatMap((m) => Object.keys(m.latency_ms)))].sort();
  Plotly.react("chart-latency", routes.map((route) => ({
    x: times, y: series((m) => (m.latency_ms[route] ? m.latency_ms[route].p99 : undefined)),
    name: route, mode: "lines+markers", marker: { size: 3 }, connectgaps: false,
  })), timeLayout({ yaxis: { type: "log", title: { text: "ms" } } }, false), config);

  Plotly.react("chart-ingest", [
    { x: times, y: series((m) => m.events_per_s), name: "events/s", mode: "lines", fill: "tozeroy", line: { color: "#2471a3" } },
  ], timeLayout({ showlegend: false, yaxis: { rangemode: "tozero" } }, false), config);

  Plotly.react("chart-offload", [
    { x: times, y: series((m) => m.offload.queue_depth), name: "in flight", mode: "lines", line: { color: "#2471a3" } },
    { x: times, y: series((m) => m.offload.restarts), name: "restarts", mode: "lines", line: { color: "#e67e22", shape: "hv" } },
    { x: times, y: series((m) => m.offload.crashes), name: "crashes", mode: "lines", line: { color: "#c0392b", shape: "hv", dash: "dot" } },
  ], timeLayout({ yaxis: { rangemode: "tozero", title: { text: "count" } } }, false), config);
}

function glance(m) {
  $("stat-busy").textContent = `${fmt(m.busy_cores, 2)} / ${m.usable_cores}`;
  $("stat-server").textContent = fmt(m.server_cores, 2);
  $("stat-workers").textContent = fmt(m.worker_cores, 2);
  const health = m.latency_ms["GET /health"];
  $("stat-health").textContent = health ? fmt(health.p99, health.p99 < 10 ? 2 : 0) : "—";
  $("stat-lag").textContent = fmt(m.loop_lag_ms.p99, m.loop_lag_ms.p99 < 10 ? 2 : 0);
  $("stat-ingest").textContent = Math.round(m.events_per_s).toLocaleString("en");
  showMode(m.offload.mode);
  clusterWorkers(m.offload);
}

function clusterWorkers(offload) {
  // The dask mode's cluster, as its scheduler last heard from each worker (heartbeats).
  const workers = offload.cluster_workers;
  $("cluster").hidden = workers.length === 0 && !offload.cluster_error;
  $("cluster-error").textContent = offload.cluster_error || "";
  const mib = (bytes) => (bytes / 1048576).toFixed(0);
  const body = $("cluster-table").querySelector("tbody");
  const byName = [...workers].sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
  body.replaceChildren(...byName.map((w) => {
    const row = document.createElement("tr");
    const cells = [w.name, w.address, w.host, w.nthreads, fmt(w.cpu_percent, 0),
      mib(w.memory_bytes), w.memory_limit_bytes ? mib(w.memory_limit_bytes) : "—"];
    for (const value of cells) { const td = document.createElement("td"); td.textContent = value; row.appendChild(td); }
    return row;
  }));
  $("cluster-count").textContent = workers.length ? `${workers.length} worker${workers.length === 1 ? "" : "s"}` : "";
}

function showMode(mode) {
  for (const button of document.querySelectorAll("#mode-switch button")) {
    button.setAttribute("aria-checked", String(button.dataset.mode === mode));
  }
  document.body.dataset.mode = mode;
  $("mode-help").textContent = modes[mode] ? `${mode}: ${modes[mode]}` : "";
}

async function switchMode(mode) {
  const headers = { "content-type": "application/json" };
  const token = $("token").value;
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch("/admin/offload", { method: "PUT", headers, body: JSON.stringify({ mode }) });
  const body = await response.json();
  $("switch-error").hidden = response.ok;
  if (!response.ok) { $("switch-error").textContent = body.detail; return; }
  $("demo-note").hidden = !body.demo_cycling;
  showMode(body.mode);
}

async function loadModes() {
  const state = await (await fetch("/admin/offload")).json();
  modes = state.modes;
  const box = $("mode-switch");
  for (const mode of Object.keys(modes)) {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.mode = mode;
    button.setAttribute("role", "radio");
    button.title = modes[mode];
    button.textContent = mode;
    button.addEventListener("click", () => switchMode(mode));
    box.appendChild(button);
  }
  $("token-box").hidden = !state.token_required;
  $("demo-note").hidden = !state.demo_cycling;
  showMode(state.mode);
}

async function loadBench() {
  const bench = await (await fetch("/bench/latest")).json();
  if (bench.run_id === null) { $("bench-message").textContent = bench.message; return; }
  $("bench-id").textContent = `#${bench.run_id}, ${(bench.started || "").replace("T", " ").replace("+00:00", " UTC")}`;
  const body = $("bench-table").querySelector("tbody");
  for (const r of bench.rows) {
    const row = document.createElement("tr");
    const cells = [r.workload, r.impl, r.model, r.workers, r.interpreter,
      r.wall_median_s === null ? "—" : `${r.wall_median_s.toFixed(3)} s`,
      r.speedup === null ? "—" : `${r.speedup.toFixed(2)}×`, fmt(r.busy_cores, 2), r.status];
    for (const value of cells) { const td = document.createElement("td"); td.textContent = value; row.appendChild(td); }
    body.appendChild(row);
  }
  $("bench-table").hidden = false;
}

function connect() {
  const source = new EventSource("/live");
  source.onopen = () => { $("connection").dataset.state = "live"; $("connection").textContent = "live"; };
  source.onerror = () => { $("connection").dataset.state = "lost"; $("connection").textContent = "reconnecting…"; };
  source.onmessage = (event) => {
    const message = JSON.parse(event.data);
    history.push(message);
    while (history.length > KEEP) history.shift();
    document.body.dataset.messages = String(Number(document.body.dataset.messages || 0) + 1);
    glance(message);
    draw();
  };
}

window.gilwise = { history };
loadModes().then(connect);
loadBench();
