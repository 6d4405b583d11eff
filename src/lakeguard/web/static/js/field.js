// The field view: an officer's or guard's current assignment on a phone, the buttons that move
// it on (acknowledge → on scene → resolved), and the phone's position while the page is open.
import { api, startSession } from "./api.js";
import { currentLang, formatSeconds, formatTime, loadLanguages, nameOf, onLangChange, setLang, t } from "./i18n.js";
import { LiveStream } from "./stream.js";

const $ = (id) => document.getElementById(id);
const NEXT = { dispatched: "acknowledged", acknowledged: "on_scene", on_scene: "resolved" };
const BUTTON = { acknowledged: "field.acknowledge", on_scene: "field.on_scene", resolved: "field.resolved" };

let me = null, mine = null, seq = 0, watchId = null;

async function main() {
  await loadLanguages();
  $("lang").onclick = () => setLang(currentLang() === "zh" ? "en" : "zh");
  onLangChange(render);
  $("advance").onclick = advance;
  $("share").onchange = () => ($("share").checked ? share() : stopSharing());
  await startSession({ enter, failed: () => t("login.failed") });
}

async function enter(who) {
  me = who;
  $("login").hidden = true;
  $("duty").hidden = false;
  $("logout").hidden = false;
  await load();
  // Assignment and unit events name the unit: only this unit's reload the page.
  const stream = new LiveStream({
    topics: "incident.assignment,incident.status,unit.status",
    seq: () => seq,
    onStatus: (status, since) => {
      $("stream-status").dataset.state = status;
      $("stream-banner").hidden = status === "live";
      if (status === "down") $("stream-banner").textContent = t("stream.down", { since: formatTime(since.toISOString()) });
      if (status === "auth") $("stream-banner").textContent = t("stream.auth");
      if (status === "live") load();
    },
    onMessage: (message) => {
      if (message.seq) seq = Math.max(seq, message.seq);
      const e = message.event;
      const incident = mine?.assignment?.incident_id;
      if (e.unit_id === me.unit_id || (incident && e.incident_id === incident)) load();
    },
  });
  stream.start();
}

async function load() {
  try {
    mine = await api("/field/assignment");
    seq = Math.max(seq, mine.seq);
  } catch (error) {
    mine = null;
    $("my-unit").textContent = error.status === 409 ? t("field.no_unit") : error.message;
    return;
  }
  render();
}

function render() {
  if (!mine) return;
  const unit = mine.unit;
  $("my-unit").textContent = t("field.unit", {
    callsign: unit.callsign, name: nameOf(unit.name), status: t(`unitstatus.${unit.status}`),
  });
  const task = mine.assignment;
  $("idle").hidden = task !== null;
  $("task").hidden = task === null;
  if (!task) return;
  const incident = task.incident;
  $("task-title").textContent = `${nameOf(incident.type_name)} · ${t("field.priority", { p: incident.priority })}`;
  $("task-place").textContent = nameOf(incident.place);
  $("task-eta").textContent = formatSeconds(task.eta_s);
  $("task-status").textContent = t(`status.${task.status}`);
  $("task-description-box").hidden = !incident.description;
  $("task-description").textContent = incident.description;
  $("task-notes").replaceChildren(
    ...incident.notes.map((n) => Object.assign(document.createElement("li"), { textContent: `${formatTime(n.at)} ${n.note}` })),
  );
  $("task-steps").replaceChildren(
    ...incident.steps.map((s) => Object.assign(document.createElement("li"), { textContent: nameOf(s) })),
  );
  const next = NEXT[task.status];
  $("advance").hidden = !next;
  if (next) {
    $("advance").textContent = t(BUTTON[next]);
    $("advance").dataset.next = next;
  }
}

async function advance() {
  const task = mine?.assignment;
  if (!task) return;
  $("task-error").textContent = "";
  try {
    await api(`/incidents/${task.incident_id}/assignments/${task.unit_id}`, {
      method: "POST", body: { status: $("advance").dataset.next },
    });
    await load();
  } catch (error) {
    $("task-error").textContent = error.message;
  }
}

// The phone's position through the same API the officers' apps use, while the page is open.
function share() {
  if (!navigator.geolocation || !mine) {
    $("share-status").textContent = t("field.no_gps");
    $("share").checked = false;
    return;
  }
  watchId = navigator.geolocation.watchPosition(
    async (position) => {
      const c = position.coords;
      const body = {
        lat: c.latitude, lon: c.longitude, timestamp: new Date(position.timestamp).toISOString(),
        accuracy_m: c.accuracy ?? null, speed_ms: c.speed ?? null,
        bearing_deg: c.heading === null || Number.isNaN(c.heading) ? null : c.heading,
      };
      try {
        await api(`/units/${mine.unit.id}/positions`, { method: "POST", body });
        $("share-status").textContent = t("field.sent", { time: formatTime(body.timestamp) });
      } catch (error) {
        $("share-status").textContent = error.message;
      }
    },
    () => ($("share-status").textContent = t("field.no_gps")),
    { enableHighAccuracy: true, maximumAge: 10000 },
  );
}

function stopSharing() {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
  $("share-status").textContent = "";
}

main();
