// The command dashboard: log in, load the venue and a snapshot, then keep it live from the
// stream. What a role sees follows its permissions: auditors read, the command roles act.
import { api, startSession } from "./api.js";
import { AlertPanel } from "./alerts.js";
import { Board } from "./board.js";
import { PatrolPanel } from "./patrol.js";
import { drawOccupancy } from "./chart.js";
import { currentLang, formatSeconds, formatTime, loadLanguages, nameOf, onLangChange, setLang, t } from "./i18n.js";
import { VenueMap } from "./map.js";
import { apply, fromSnapshot, isOpen, isStale, putAlert, putIncident, putUnit } from "./state.js";
import { LiveStream } from "./stream.js";

const $ = (id) => document.getElementById(id);
const COMMAND = ["admin", "commander", "dispatcher"];
const WATCH = [...COMMAND, "auditor"];
const FIELD = ["field_officer", "guard"];

const ctx = { state: null, types: {}, canCommand: false, clock: null, map: null };
// The venue's time now, from the clock the snapshot reported (a twin may run it fast).
ctx.venueNow = () => {
  if (!ctx.clock) return Date.now();
  return ctx.clock.venueMs + (performance.now() - ctx.clock.at) * ctx.clock.speed;
};

let board, alerts, patrol, stream, selectedArea = null, selectedUnit = null;

async function main() {
  await loadLanguages();
  $("lang").onclick = () => setLang(currentLang() === "zh" ? "en" : "zh");
  await startSession({ enter, failed: () => t("login.failed") });
}

async function enter(me) {
  const roles = new Set(me.roles);
  if (!WATCH.some((r) => roles.has(r))) {
    if (FIELD.some((r) => roles.has(r))) {
      location.assign("/field");
      return;
    }
    $("login").hidden = true;
    $("no-access").hidden = false;
    return;
  }
  ctx.canCommand = COMMAND.some((r) => roles.has(r));
  $("login").hidden = true;
  $("room").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = `${me.username} (${me.roles.map((r) => t(`role.${r}`)).join(", ")})`;
  document.body.classList.toggle("read-only", !ctx.canCommand);
  $("create").hidden = !ctx.canCommand;

  const [areas, network, posts, types] = await Promise.all([
    api("/venue/layers/areas"), api("/venue/layers/network"), api("/venue/layers/posts"), api("/incident-types"),
  ]);
  ctx.types = Object.fromEntries(types.map((plan) => [plan.code, plan]));
  ctx.map = new VenueMap($("map"), {
    layers: { areas, network, posts },
    onAreaClick: (areaId, latlng) => board.mapClicked(latlng.lng, latlng.lat) || showArea(areaId),
    onUnitClick: showUnit,
    onIncidentClick: (id) => board.select(id),
    onMapClick: (lon, lat) => board.mapClicked(lon, lat),
  });
  board = new Board(ctx);
  alerts = new AlertPanel(ctx);
  patrol = new PatrolPanel(ctx);
  board.fillTypes();
  bindTabs();
  onLangChange(() => {
    board.fillTypes();
    renderAll();
    loadFigures();
  });
  await loadSnapshot();
  stream = new LiveStream({ onMessage: received, onStatus: streamStatus, seq: () => ctx.state.seq });
  stream.start();
  setInterval(tick, 1000);
  setInterval(loadFigures, 30000);
}

async function loadSnapshot() {
  const snapshot = await api("/dashboard/snapshot");
  ctx.state = fromSnapshot(snapshot);
  ctx.clock = { venueMs: Date.parse(snapshot.clock.now), speed: snapshot.clock.speed, at: performance.now() };
  renderAll();
  loadFigures();
}

function renderAll() {
  const now = ctx.venueNow();
  for (const unit of Object.values(ctx.state.units)) ctx.map.putUnit(unit, isStale(unit, now, ctx.state.maxAgeS));
  for (const incident of Object.values(ctx.state.incidents)) ctx.map.putIncident(incident, isOpen(incident));
  for (const areaId of Object.keys(ctx.map.areaLayers)) ctx.map.colourArea(areaId, ctx.state.crowd[areaId]);
  for (const id of Object.keys(ctx.map.alertMarkers)) if (!ctx.state.alerts[id]) ctx.map.dropAlert(id);
  for (const alert of Object.values(ctx.state.alerts)) ctx.map.putAlert(alert);
  board.renderQueue();
  board.renderIncident();
  alerts.render();
  if (selectedUnit) showUnit(selectedUnit);
}

// One stream message: apply it, redraw what it touched, fetch what it could not carry.
async function received(message) {
  const change = apply(ctx.state, message);
  if (change.fetch) await fetchMissing(change);
  const now = ctx.venueNow();
  if (change.unit && ctx.state.units[change.unit]) {
    const unit = ctx.state.units[change.unit];
    ctx.map.putUnit(unit, isStale(unit, now, ctx.state.maxAgeS));
    if (change.unit === selectedUnit) showUnit(selectedUnit);
  }
  if (change.incident !== undefined && ctx.state.incidents[change.incident]) {
    ctx.map.putIncident(ctx.state.incidents[change.incident], isOpen(ctx.state.incidents[change.incident]));
    scheduleQueue();
    board.changed(change.incident);
    scheduleFigures();
  }
  if (change.area) {
    ctx.map.colourArea(change.area, ctx.state.crowd[change.area]);
    if (change.area === selectedArea && message.topic === "crowd.occupancy") areaFigures(change.area);
  }
  if (change.alert !== undefined) {
    const alert = ctx.state.alerts[change.alert];
    if (alert) ctx.map.putAlert(alert);
    else ctx.map.dropAlert(change.alert);
    alerts.render();
  }
}

async function fetchMissing(change) {
  try {
    if (change.fetch === "snapshot") await loadSnapshot();
    else if (change.fetch === "alert") putAlert(ctx.state, await api(`/alerts/${change.alert}`));
    else if (change.fetch === "alerts") for (const a of await api("/alerts")) putAlert(ctx.state, await api(`/alerts/${a.id}`));
    else if (change.fetch === "incident") await ctx.refreshIncident(change.incident);
    else if (change.fetch === "unit") putUnit(ctx.state, unitFromRead(await api(`/units/${change.unit}`)));
  } catch {
    // The next snapshot (on reconnect, or a gap) brings it; nothing to show meanwhile.
  }
}

// A unit as GET /units/{id} returns it, in the snapshot's shape.
function unitFromRead(u) {
  return {
    id: u.id, callsign: u.callsign, name: u.name, kind: u.kind, capabilities: u.capabilities,
    status: u.status, label: u.status_label, lon: u.position?.lon ?? null, lat: u.position?.lat ?? null,
    reported_at: u.position?.reported_at ?? null, home: u.location ? [u.location.lon, u.location.lat] : null,
    stale: u.stale,
  };
}

ctx.refreshIncident = async (id) => {
  const raw = await api(`/incidents/${id}`);
  if (!ctx.state.incidents[id]) putIncident(ctx.state, { ...raw, assignments: raw.assignments });
  ctx.map.putIncident(ctx.state.incidents[id], isOpen(ctx.state.incidents[id]));
  board.renderQueue();
};

let queueTimer = null, figuresTimer = null;
function scheduleQueue() {
  if (!queueTimer) queueTimer = requestAnimationFrame(() => { queueTimer = null; board.renderQueue(); });
}
function scheduleFigures() {
  clearTimeout(figuresTimer);
  figuresTimer = setTimeout(loadFigures, 1000);
}

async function loadFigures() {
  const data = await api("/dashboard/figures").catch(() => null);
  if (!data) return;
  $("figures").replaceChildren(
    ...data.figures.map((f) => {
      const item = document.createElement("li");
      item.dataset.figure = f.key;
      const value = document.createElement("strong");
      value.textContent = f.value === null ? "—" : f.unit === "s" ? formatSeconds(f.value) : f.value.toLocaleString();
      const label = document.createElement("span");
      label.textContent = t(`figure.${f.key}`);
      item.append(value, label);
      return item;
    }),
  );
}

function streamStatus(status, since) {
  $("stream-status").dataset.state = status;
  const banner = $("stream-banner");
  if (status === "live") {
    banner.hidden = true;
    loadFigures();
  } else if (status === "auth") {
    banner.hidden = false;
    banner.textContent = t("stream.auth");
  } else {
    banner.hidden = false;
    banner.textContent = t("stream.down", { since: formatTime(since.toISOString()) });
  }
}

// Once a second: ages in the queue, and units going stale as the venue's clock moves on.
function tick() {
  board.renderQueue();
  const now = ctx.venueNow();
  for (const unit of Object.values(ctx.state.units)) ctx.map.putUnit(unit, isStale(unit, now, ctx.state.maxAgeS));
}

function bindTabs() {
  for (const tab of document.querySelectorAll("[data-tab]")) {
    tab.onclick = () => {
      for (const other of document.querySelectorAll("[data-tab]")) other.classList.toggle("active", other === tab);
      for (const pane of document.querySelectorAll(".tab")) pane.hidden = pane.id !== `tab-${tab.dataset.tab}`;
      if (tab.dataset.tab === "patrol") patrol.load();
    };
  }
  for (const close of document.querySelectorAll("[data-close]")) {
    close.onclick = () => {
      $(close.dataset.close).hidden = true;
      if (close.dataset.close === "detail-area") selectedArea = null;
      if (close.dataset.close === "detail-unit") selectedUnit = null;
    };
  }
}

function areaFigures(areaId) {
  const crowd = ctx.state.crowd[areaId];
  $("area-figures").textContent = crowd
    ? t("area.now", { occupancy: Math.round(crowd.occupancy).toLocaleString(), ratio: crowd.ratio === null ? "—" : Math.round(crowd.ratio * 100), los: crowd.level_of_service })
    : t("area.no_data");
}

async function showArea(areaId) {
  selectedArea = areaId;
  $("detail-unit").hidden = true;
  $("detail-area").hidden = false;
  $("area-title").textContent = ctx.map.areaLabel(areaId);
  areaFigures(areaId);
  const feature = ctx.map.areaLayers[areaId]?.feature;
  const series = await api(`/crowd/${areaId}/series?hours=6`).catch(() => ({ history: [], forecast: [] }));
  if (selectedArea === areaId) drawOccupancy($("area-chart"), series, feature?.properties.capacity, ctx.venueNow());
}

function showUnit(unitId) {
  const unit = ctx.state.units[unitId];
  if (!unit) return;
  selectedUnit = unitId;
  $("detail-area").hidden = true;
  $("detail-unit").hidden = false;
  $("unit-title").textContent = `${unit.callsign} ${nameOf(unit.name)}`;
  const working = Object.values(ctx.state.incidents).find(
    (i) => isOpen(i) && i.assignments[unitId] && !["resolved", "cancelled"].includes(i.assignments[unitId].status),
  );
  const stale = isStale(unit, ctx.venueNow(), ctx.state.maxAgeS);
  const facts = [
    [t("unit.kind"), t(`kind.${unit.kind}`)],
    [t("unit.status"), unit.label ? `${t(`unitstatus.${unit.status}`)} · ${unit.label}` : t(`unitstatus.${unit.status}`)],
    [t("unit.position"), unit.reported_at ? `${formatTime(unit.reported_at)}${stale ? ` (${t("unit.stale")})` : ""}` : t("unit.never")],
    [t("unit.capabilities"), unit.capabilities.map((c) => t(`capability.${c}`)).join(", ") || "—"],
    [t("unit.assignment"), working ? `#${working.id} ${board.typeName(working.type)} — ${t(`status.${working.assignments[unitId].status}`)}` : "—"],
  ];
  $("unit-facts").replaceChildren(
    ...facts.flatMap(([k, v]) => {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}

main();
