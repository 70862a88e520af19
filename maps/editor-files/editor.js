// The planner's editor: the plan's grids and the micro-grids of one community on a Leaflet
// map, tools that each make one edit through the API, and a side panel of what the API
// answers (households against the range, contiguity, compactness, findings, who moves).
// No rule lives here: the page sends an edit and shows the answer, or the refusal.
"use strict";

const PLAN = W.planId;
const BASE = `/plans/${PLAN}`;
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7",
  "#9c755f", "#e15759", "#86bcb6", "#8cd17d", "#d4a6c8", "#fabfd2", "#b6992d"];
const STATUS = {ok: "#a6d8a8", low: "#f6c453", high: "#e8685a", none: "#d7d7d7"};

const S = {
  plan: null, summary: null,
  grids: new Map(), gridLayers: new Map(),        // code -> GeoJSON feature / Leaflet path
  micro: new Map(), microLayers: new Map(),       // the active community's micro-grids
  communities: new Map(), communityLayers: new Map(),
  stats: new Map(),                               // code -> the API's figures of a unit
  community: null, selected: null, brush: null,   // selected: {code, level}; brush: grid code
  mode: "select", painting: null, proposal: null, busy: false, findings: [],
};

// ---- map ---------------------------------------------------------------------------------
const map = L.map("map", {zoomSnap: 0.25, maxZoom: 21, boxZoom: false, doubleClickZoom: false});
for (const tile of W.tiles) {
  L.tileLayer(tile.url, {attribution: tile.attribution, subdomains: tile.subdomains,
    maxNativeZoom: tile.maxZoom, maxZoom: 21}).addTo(map);
}
for (const [name, z] of [["grids", 410], ["micro", 420], ["outlines", 430]]) {
  map.createPane(name).style.zIndex = String(z);
}
map.getPane("outlines").style.pointerEvents = "none";
map.pm.setGlobalOptions({snapDistance: 15, allowSelfIntersection: false});
map.on("pm:create", event => drawn(event.layer));

function feature(code) { return S.micro.get(code) || S.grids.get(code) || S.communities.get(code); }
function label(code) {
  const f = code && feature(code);
  return f ? `${f.properties.name}（${code}）` : (code || "—");
}
function shortLabel(code) {
  const f = code && feature(code);
  return f ? f.properties.name : (code || "—");
}

function communityGrids(community) {
  return [...S.grids.values()].filter(f => f.properties.parent_code === community)
    .map(f => f.properties.code).sort();
}

function gridColour(code) {
  const f = S.grids.get(code);
  const siblings = f ? communityGrids(f.properties.parent_code) : [];
  const i = siblings.indexOf(code);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}

function gridStyle(code) {
  const st = S.stats.get(code);
  const brush = code === S.brush;
  return {pane: "grids", color: brush ? "#0b57d0" : "#555", weight: brush ? 3 : 1,
    fillColor: STATUS[(st && st.status) || "none"], fillOpacity: 0.45};
}

function proposalColour(code) {
  const keys = [...new Set(Object.values(S.proposal.groups).map(String))].sort();
  return PALETTE[keys.indexOf(String(S.proposal.groups[code])) % PALETTE.length];
}

function microStyle(code) {
  const f = S.micro.get(code);
  const parent = f.properties.parent_code;
  const selected = S.selected && S.selected.code === code;
  const painted = S.painting && S.painting.has(code);
  let fill = gridColour(parent);
  if (S.proposal && code in S.proposal.groups) fill = proposalColour(code);
  if (painted) fill = gridColour(S.brush);
  return {pane: "micro", fillColor: fill, fillOpacity: painted ? 0.85 : 0.55,
    color: selected ? "#111" : parent === S.brush ? "#0b57d0" : "#fff",
    weight: selected ? 3 : parent === S.brush ? 1.5 : 1};
}

function restyle() {
  for (const [code, layer] of S.gridLayers) layer.setStyle(gridStyle(code));
  for (const [code, layer] of S.microLayers) layer.setStyle(microStyle(code));
}

function tooltip(code) {
  const f = feature(code);
  const st = S.stats.get(code);
  let text = `${esc(f.properties.name)}<br>${esc(code)}`;
  if (st) text += `<br>${st.households} ${esc(t("hh"))}`;
  return text;
}

function addGrid(f) {
  const code = f.properties.code;
  removeGrid(code);
  S.grids.set(code, f);
  const layer = L.geoJSON(f, {style: () => gridStyle(code)}).getLayers()[0];
  layer.bindTooltip(() => tooltip(code), {sticky: true});
  layer.on("click", () => clicked(code, "grid"));
  layer.addTo(map);
  S.gridLayers.set(code, layer);
}

function removeGrid(code) {
  const layer = S.gridLayers.get(code);
  if (layer) map.removeLayer(layer);
  S.gridLayers.delete(code);
  S.grids.delete(code);
}

function setCommunityOutline(f) {
  const code = f.properties.code;
  const old = S.communityLayers.get(code);
  if (old) map.removeLayer(old);
  S.communities.set(code, f);
  const layer = L.geoJSON(f, {style: {pane: "outlines", color: "#222", weight: 2.5, fill: false,
    interactive: false}, pmIgnore: true}).getLayers()[0];
  layer.options.pmIgnore = true;
  layer.addTo(map);
  S.communityLayers.set(code, layer);
}

function setMicro(features) {
  for (const layer of S.microLayers.values()) map.removeLayer(layer);
  S.micro.clear();
  S.microLayers.clear();
  for (const f of features) {
    const code = f.properties.code;
    S.micro.set(code, f);
    const layer = L.geoJSON(f, {style: () => microStyle(code)}).getLayers()[0];
    layer.bindTooltip(() => tooltip(code), {sticky: true});
    layer.on("click", () => clicked(code, "microgrid"));
    layer.on("mousedown", event => paintStart(code, event));
    layer.on("mouseover", () => paintOver(code));
    layer.addTo(map);
    S.microLayers.set(code, layer);
  }
}

// ---- loading -----------------------------------------------------------------------------
async function loadPlan() {
  const plan = await api("GET", BASE);
  S.plan = plan;
  S.summary = plan.summary;
  renderHeader();
}

async function loadAll(fit) {
  const [grids, communities, stats] = await Promise.all([
    api("GET", `${BASE}/units?level=grid`), api("GET", `${BASE}/units?level=community`),
    api("GET", `${BASE}/stats?level=grid`)]);
  for (const code of [...S.grids.keys()]) removeGrid(code);
  for (const s of stats) S.stats.set(s.code, s);
  for (const f of communities.features) setCommunityOutline(f);
  for (const f of grids.features) addGrid(f);
  if (fit && grids.features.length) map.fitBounds(L.geoJSON(grids).getBounds(), {animate: false});
}

async function openCommunity(code, fit) {
  const q = `level=microgrid&within=${encodeURIComponent(code)}`;
  const [micro, mstats, gstats] = await Promise.all([
    api("GET", `${BASE}/units?${q}`), api("GET", `${BASE}/stats?${q}`),
    api("GET", `${BASE}/stats?level=grid&within=${encodeURIComponent(code)}`)]);
  S.community = code;
  for (const s of [...mstats, ...gstats]) S.stats.set(s.code, s);
  setMicro(micro.features);
  const first = gstats.find(s => s.range);
  if (first) {
    const [lo, hi] = first.range;
    const min = document.getElementById("pmin"), max = document.getElementById("pmax");
    if (!min.value) min.value = lo;
    if (!max.value) max.value = hi;
  }
  if (fit && S.communities.get(code)) {
    map.fitBounds(L.geoJSON(S.communities.get(code)).getBounds(), {padding: [20, 20], animate: false});
  }
  renderCommunity();
}

// The communities an answer touched: their grids and micro-grids are fetched again, nothing else.
function touchedCommunities(answer) {
  const out = new Set();
  const communityOf = code => {
    const f = S.grids.get(code);
    return f ? f.properties.parent_code : null;
  };
  for (const u of answer.units || []) {
    if (u.level === "community") out.add(u.code);
    else if (u.level === "grid") out.add(u.parent_code);
    else if (u.level === "microgrid") out.add(communityOf(u.parent_code));
  }
  for (const code of [...(answer.deleted || []), ...Object.keys(answer.recoded || {})]) {
    out.add(communityOf(code));
    const m = S.micro.get(code);
    if (m) out.add(S.community);
  }
  for (const code of answer.official_changed || []) if (S.communities.has(code)) out.add(code);
  out.delete(null);
  out.delete(undefined);
  return out;
}

async function refreshCommunity(code) {
  let fc;
  try {
    fc = await api("GET", `${BASE}/units?within=${encodeURIComponent(code)}`);
  } catch (e) {
    if (e.status === 404) {        // the community itself is gone (an administrator's edit)
      const old = S.communityLayers.get(code);
      if (old) map.removeLayer(old);
      S.communities.delete(code);
      for (const g of communityGrids(code)) removeGrid(g);
      return;
    }
    throw e;
  }
  for (const g of communityGrids(code)) removeGrid(g);
  const micro = [];
  for (const f of fc.features) {
    const level = f.properties.level;
    if (level === "community") setCommunityOutline(f);
    else if (level === "grid") addGrid(f);
    else if (level === "microgrid") micro.push(f);
  }
  if (code === S.community) setMicro(micro);
}

async function loadFindings() {
  S.findings = await api("GET", `${BASE}/findings`);
  renderFindings();
}

async function refreshImpact() {
  const impact = await api("GET", `${BASE}/impact`);
  renderMoves(impact.moves, "moves-plan");
}

// ---- selection and tools -----------------------------------------------------------------
async function clicked(code, level) {
  if (S.busy || S.mode === "paint" || S.mode === "split" || S.mode === "reshape") return;
  const grid = level === "microgrid" ? S.micro.get(code).properties.parent_code : code;
  if (S.mode === "merge") {
    if (!S.brush) { say(t("pick_grid"), "error"); return; }
    if (grid !== S.brush) await run(() => api("POST", `${BASE}/edits`, {op: "merge", units: [S.brush, grid]}));
    setMode("select");
    return;
  }
  const community = S.grids.get(grid) && S.grids.get(grid).properties.parent_code;
  if (community && community !== S.community) await busy(() => openCommunity(community));
  select(code, level);
}

function select(code, level) {
  S.selected = code ? {code, level} : null;
  if (level === "grid") S.brush = code;
  else if (level === "microgrid") S.brush = S.micro.get(code).properties.parent_code;
  renderSelection();
  renderCommunity();
  restyle();
}

function setMode(mode) {
  if (mode !== "select" && !CAN_EDIT) return;
  map.pm.disableDraw();
  if ((mode === "split" || mode === "paint" || mode === "merge") && !S.brush) {
    say(t("pick_grid"), "error");
    mode = "select";
  }
  if (mode === "reshape" && !S.selected) {
    say(t("pick_unit"), "error");
    mode = "select";
  }
  S.mode = mode;
  for (const b of document.querySelectorAll("[data-mode]")) {
    b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
  }
  document.getElementById("hint").textContent = t(mode + "_hint");
  document.getElementById("map").dataset.mode = mode;
  if (mode === "paint") map.dragging.disable(); else map.dragging.enable();
  const snap = document.getElementById("snap").checked;
  if (mode === "split") map.pm.enableDraw("Line", {snappable: snap, continueDrawing: false});
  if (mode === "reshape") map.pm.enableDraw("Polygon", {snappable: snap, continueDrawing: false});
}

async function drawn(layer) {
  const geometry = layer.toGeoJSON().geometry;
  map.removeLayer(layer);
  const mode = S.mode;
  setMode("select");
  if (mode === "split") {
    await run(() => api("POST", `${BASE}/edits`, {op: "split", unit: S.brush, line: geometry,
      cut: document.getElementById("cut").checked}));
  } else if (mode === "reshape") {
    await run(() => api("POST", `${BASE}/edits`, {op: "reshape", unit: S.selected.code,
      outline: geometry}));
  }
}

function paintStart(code, event) {
  if (S.mode !== "paint" || S.busy || event.originalEvent.button !== 0) return;
  L.DomEvent.preventDefault(event.originalEvent);
  S.painting = new Set([code]);
  restyle();
}

function paintOver(code) {
  if (!S.painting || S.painting.has(code)) return;
  S.painting.add(code);
  const layer = S.microLayers.get(code);
  if (layer) layer.setStyle(microStyle(code));
}

async function paintEnd() {
  if (!S.painting) return;
  const codes = [...S.painting].filter(c => S.micro.get(c) && S.micro.get(c).properties.parent_code !== S.brush);
  S.painting = null;
  restyle();
  if (codes.length) await run(() => api("POST", `${BASE}/edits`, {op: "move", units: codes, to: S.brush}));
}
document.addEventListener("mouseup", paintEnd);

async function lockToggle() {
  if (!S.selected) { say(t("pick_unit"), "error"); return; }
  const st = S.stats.get(S.selected.code);
  const op = st && st.locked ? "unlock" : "lock";
  await run(() => api("POST", `${BASE}/edits`, {op, units: [S.selected.code]}));
}

// ---- one action: busy, the API's answer applied, or its refusal shown ----------------------
async function busy(work) {
  S.busy = true;
  document.body.dataset.busy = "1";
  try { return await work(); } finally { S.busy = false; document.body.dataset.busy = "0"; }
}

async function run(request) {
  if (S.busy) return null;
  return busy(async () => {
    say(t("working"));
    let answer;
    try {
      answer = await request();
    } catch (e) {
      say(e.message, "error");
      const report = e.body && e.body.report;
      if (report) renderFindings((report.findings || (report.report && report.report.findings) || []));
      return null;
    }
    await applyAnswer(answer);
    say(t("done_ms", {ms: answer.ms}), "ok");
    return answer;
  });
}

async function applyAnswer(answer) {
  const communities = touchedCommunities(answer);
  for (const [old, now] of Object.entries(answer.recoded || {})) {
    S.stats.delete(old);
    if (S.selected && S.selected.code === old) S.selected.code = now;
    if (S.brush === old) S.brush = now;
  }
  for (const code of answer.deleted || []) {
    S.stats.delete(code);
    if (S.selected && S.selected.code === code) S.selected = null;
    if (S.brush === code) S.brush = null;
  }
  for (const u of answer.units || []) S.stats.set(u.code, u);
  S.summary = answer.plan;
  await Promise.all([...communities].map(refreshCommunity));
  if (S.community && !S.communities.has(S.community)) { S.community = null; setMicro([]); }
  renderHeader();
  renderSelection();
  renderCommunity();
  restyle();
  renderMoves(answer.moves, "moves-last");
  renderFindings(answer.findings);
  renderNotes(answer.notes);
  await refreshImpact();
}

async function step(which) {
  if (!CAN_EDIT) return;
  await run(() => api("POST", `${BASE}/${which}`));
}

// ---- auto-partition: a proposal shown in colours, accepted as one regroup edit -------------
async function partition() {
  if (!S.community) { say(t("pick_grid"), "error"); return; }
  const body = {community: S.community};
  const min = parseInt(document.getElementById("pmin").value, 10);
  const max = parseInt(document.getElementById("pmax").value, 10);
  if (Number.isFinite(min)) body.min = min;
  if (Number.isFinite(max)) body.max = max;
  await busy(async () => {
    say(t("working"));
    try {
      S.proposal = await api("POST", `${BASE}/partition`, body);
    } catch (e) { say(e.message, "error"); return; }
    say("");
    renderProposal();
    restyle();
  });
}

function renderProposal() {
  const box = document.getElementById("proposal");
  box.hidden = !S.proposal;
  if (!S.proposal) return;
  const p = S.proposal;
  const n = (p.grids || []).length || new Set(Object.values(p.groups).map(String)).size;
  document.getElementById("proposal-text").textContent = t("proposal_groups", {n})
    + " " + t("verdict_" + p.verdict) + (p.moved !== undefined ? " " + t("proposal_moved", {n: p.moved}) : "");
  const list = document.getElementById("proposal-report");
  list.innerHTML = "";
  for (const g of p.grids || []) {
    const name = S.grids.has(g.slot) ? shortLabel(g.slot) : t("new_grid");
    const colour = PALETTE[[...new Set(Object.values(p.groups).map(String))].sort().indexOf(String(g.slot)) % PALETTE.length];
    list.insertAdjacentHTML("beforeend", `<li><span class="swatch" style="background:${colour}"></span>`
      + `${esc(name)}: <b>${g.households}</b> ${esc(t("hh"))} · ${esc(t("pp"))} ${Number(g.compactness).toFixed(2)}</li>`);
  }
  for (const r of p.reasons || []) list.insertAdjacentHTML("beforeend", `<li class="warn">${esc(said(r))}</li>`);
  document.getElementById("accept").disabled = p.verdict === "infeasible" || !Object.keys(p.groups).length;
}

async function acceptProposal() {
  if (!S.proposal) return;
  const {community, groups} = S.proposal;
  S.proposal = null;
  renderProposal();
  await run(() => api("POST", `${BASE}/edits`, {op: "regroup", community, groups}));
  restyle();
}

function rejectProposal() {
  S.proposal = null;
  renderProposal();
  restyle();
}

// ---- side panel --------------------------------------------------------------------------
function renderHeader() {
  const plan = S.plan;
  document.getElementById("plan-title").textContent = `${plan.title}`;
  document.getElementById("plan-meta").textContent =
    `#${plan.id} · ${EN ? plan.status : plan.status_zh} · ${t("base_release")} ${plan.base_release_id}`;
  const s = S.summary || {};
  const chip = (n, key, kind) => `<span class="chip ${n ? kind : ""}">${esc(t(key))} ${n || 0}</span>`;
  document.getElementById("summary").innerHTML = chip(s.errors, "errors", "bad")
    + chip(s.warnings, "warnings", "warn") + chip(s.grid_low, "grid_low", "warn")
    + chip(s.grid_high, "grid_high", "bad");
  const editable = CAN_EDIT && plan.status === "draft";
  document.getElementById("tools").classList.toggle("disabled", !editable);
  for (const el of document.querySelectorAll("#tools button, #tools input, #partition-box button, #import")) {
    el.disabled = !editable;
  }
  document.getElementById("undo").disabled = !editable || !s.can_undo;
  document.getElementById("redo").disabled = !editable || !s.can_redo;
  document.querySelector('[data-mode="select"]').disabled = false;
  if (!editable) say(CAN_EDIT ? t("not_draft") : t("read_only"));
  document.getElementById("publish-box").hidden = !(W.role === "admin"
    && (plan.status === "draft" || plan.status === "submitted"));
}

function renderSelection() {
  document.getElementById("sel-unit").textContent = S.selected ? label(S.selected.code) : t("none");
  document.getElementById("sel-brush").textContent = S.brush ? label(S.brush) : t("none");
  const st = S.selected && S.stats.get(S.selected.code);
  document.getElementById("lock").textContent = st && st.locked ? t("unlock") : t("lock");
}

function renderCommunity() {
  const box = document.getElementById("bars");
  document.getElementById("community-name").textContent = S.community ? label(S.community) : "";
  box.innerHTML = "";
  if (!S.community) return;
  const grids = communityGrids(S.community);
  const stats = grids.map(code => S.stats.get(code)).filter(Boolean);
  const top = Math.max(1, ...stats.map(s => s.households), ...stats.map(s => (s.range ? s.range[1] * 1.3 : 0)));
  for (const code of grids) {
    const st = S.stats.get(code);
    const row = document.createElement("div");
    row.className = "bar-row" + (code === S.brush ? " brush" : "");
    row.dataset.code = code;
    if (!st) { row.textContent = label(code); box.appendChild(row); continue; }
    row.dataset.status = st.status;
    row.dataset.households = String(st.households);
    const pct = v => `${Math.min(100, (100 * v) / top).toFixed(1)}%`;
    const marks = st.range ? `<i class="lo" style="left:${pct(st.range[0])}"></i><i class="hi" style="left:${pct(st.range[1])}"></i>` : "";
    const shape = st.contiguous ? t("contiguous") : t("parts", {n: st.parts});
    row.innerHTML = `<div class="bar-label"><span class="swatch" style="background:${gridColour(code)}"></span>`
      + `${esc(st.name)} <small>${esc(code)}</small>${st.locked ? ` <em>${esc(t("locked"))}</em>` : ""}</div>`
      + `<div class="bar"><div class="fill ${st.status}" style="width:${pct(st.households)}"></div>${marks}</div>`
      + `<div class="bar-text"><b>${st.households}</b> ${esc(t("hh"))}`
      + (st.range ? ` <small>(${esc(t("range"))} ${st.range[0]}–${st.range[1]})</small>` : "")
      + ` · <span class="${st.contiguous ? "" : "warn"}">${esc(shape)}</span>`
      + ` · ${esc(t("pp"))} ${st.polsby_popper.toFixed(2)}</div>`;
    row.addEventListener("click", () => select(code, "grid"));
    box.appendChild(row);
  }
}

function renderFindings(found) {
  const list = document.getElementById("findings");
  let shown = found;
  if (shown === undefined) {
    const mine = new Set([S.community, ...S.micro.keys(), ...communityGrids(S.community)]);
    shown = S.community ? S.findings.filter(f => f.codes.some(c => mine.has(c))) : S.findings;
  }
  list.innerHTML = "";
  if (!shown.length) { list.innerHTML = `<li class="ok">${esc(t("no_findings"))}</li>`; return; }
  for (const f of shown.slice(0, 200)) {
    list.insertAdjacentHTML("beforeend", `<li class="${esc(f.severity)}">${esc(said(f))}</li>`);
  }
}

function renderNotes(notes) {
  const list = document.getElementById("notes");
  list.innerHTML = "";
  for (const n of notes || []) list.insertAdjacentHTML("beforeend", `<li>${esc(said(n))}</li>`);
}

function renderMoves(moves, where) {
  const box = document.getElementById(where);
  if (!moves || !moves.from_to || !moves.from_to.length) {
    box.innerHTML = `<p class="hint">${esc(t("no_moves"))}</p>`;
    return;
  }
  const rows = moves.from_to.map(r => `<tr><td title="${esc(r.from || "")}">${esc(shortLabel(r.from))}</td>`
    + `<td title="${esc(r.to || "")}">${esc(shortLabel(r.to))}</td><td>${r.households}</td><td>${r.residents}</td></tr>`);
  box.innerHTML = `<p>${esc(t("moves_total", {h: moves.households, r: moves.residents}))}</p>`
    + `<table class="moves"><thead><tr><th>${esc(t("from"))}</th><th>${esc(t("to"))}</th>`
    + `<th>${esc(t("households"))}</th><th>${esc(t("residents"))}</th></tr></thead>`
    + `<tbody>${rows.join("")}</tbody></table>`;
}

// ---- files and publishing ----------------------------------------------------------------
async function exportPlan() {
  const response = await api("GET", `${BASE}/export.gpkg`, undefined, true);
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = `plan-${PLAN}.gpkg`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function importFile(input) {
  const file = input.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  input.value = "";
  await busy(async () => {
    say(t("working"));
    let answer;
    try { answer = await api("POST", `${BASE}/import`, form); } catch (e) {
      say(e.message, "error");
      const report = e.body && e.body.report;
      if (report) renderFindings(report.findings || []);
      return;
    }
    S.summary = answer.plan;
    await loadAll(false);
    if (S.community) await openCommunity(S.community);
    renderHeader();
    renderNotes(answer.notes);
    await refreshImpact();
    say(t("imported", {n: answer.applied}), "ok");
  });
}

async function publish() {
  const date = document.getElementById("effective").value;
  await busy(async () => {
    say(t("working"));
    try {
      const done = await api("POST", `${BASE}/publish`, date ? {effective_date: date} : {});
      S.plan = done.plan;
      renderHeader();
      say(t("published", {id: done.release.id}), "ok");
    } catch (e) {
      say(e.message, "error");
      const report = e.body && e.body.report;
      if (report) renderFindings((report.report && report.report.findings) || report.findings || []);
    }
  });
}

// ---- wiring ------------------------------------------------------------------------------
function wire() {
  translatePage();
  const back = document.getElementById("back");
  back.textContent = "← " + t("back");
  if (EN) back.href += "?lang=en";
  for (const b of document.querySelectorAll("[data-mode]")) b.addEventListener("click", () => setMode(b.dataset.mode));
  document.getElementById("undo").addEventListener("click", () => step("undo"));
  document.getElementById("redo").addEventListener("click", () => step("redo"));
  document.getElementById("lock").addEventListener("click", lockToggle);
  document.getElementById("partition").addEventListener("click", partition);
  document.getElementById("accept").addEventListener("click", acceptProposal);
  document.getElementById("reject").addEventListener("click", rejectProposal);
  document.getElementById("export").addEventListener("click", () => exportPlan().catch(e => say(e.message, "error")));
  document.getElementById("import").addEventListener("change", event => importFile(event.target));
  document.getElementById("publish").addEventListener("click", publish);
  document.addEventListener("keydown", event => {
    if (event.target.closest && event.target.closest("input, textarea")) return;
    const key = event.key.toLowerCase();
    if ((event.ctrlKey || event.metaKey) && key === "z" && !event.shiftKey) { event.preventDefault(); step("undo"); }
    else if ((event.ctrlKey || event.metaKey) && (key === "y" || (key === "z" && event.shiftKey))) { event.preventDefault(); step("redo"); }
    else if (key === "escape") setMode("select");
  });
  if (W.tilesNote) say(W.tilesNote);
}

window.wanggeEditor = {map, state: S, setMode, select,
  ready: (async () => {
    wire();
    document.body.dataset.busy = "1";
    try {
      await loadPlan();
      await loadAll(true);
      const wanted = new URLSearchParams(location.search).get("community");
      if (wanted) await openCommunity(wanted, true);
      renderMoves(null, "moves-last");
      await Promise.all([loadFindings(), refreshImpact()]);
      setMode("select");
      renderSelection();
      renderCommunity();
    } catch (e) {
      say(e.message, "error");
    } finally {
      document.body.dataset.busy = "0";
    }
    return true;
  })()};
