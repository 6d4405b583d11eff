// The page's picture of the command room, and the one rule for changing it: a snapshot from
// the server, then each stream event applied in order. Every event sets a state rather than a
// difference, so applying one the snapshot already reflects changes nothing; that is what lets
// a page reconnect with `after=<seq>` and end up equal to a fresh snapshot.
// No I/O here: `apply` returns what else the page should fetch, and the page fetches it.

const CLOSED_INCIDENT = new Set(["closed", "cancelled"]);
const LEVELS = ["none", "yellow", "orange", "red"];

const byId = (items, key = "id") => Object.fromEntries(items.map((item) => [item[key], item]));

function incidentFrom(raw) {
  return { ...raw, assignments: byId(raw.assignments.map((a) => ({ ...a })), "unit_id") };
}

function alertFrom(raw) {
  return { ...raw, steps: byId((raw.steps || []).map((s) => ({ ...s }))) };
}

function crowdFrom(raw) {
  return {
    area_id: raw.area_id,
    occupancy: Math.round(raw.occupancy * 10) / 10,
    density: Math.round(raw.density * 10000) / 10000,
    level_of_service: raw.level_of_service,
    ratio: raw.ratio === null ? null : Math.round(raw.ratio * 10000) / 10000,
  };
}

export function fromSnapshot(snapshot) {
  return {
    seq: snapshot.seq,
    dayStart: snapshot.day_start,
    maxAgeS: snapshot.max_age_s,
    units: byId(snapshot.units.map((u) => ({ ...u }))),
    incidents: byId(snapshot.incidents.map(incidentFrom)),
    alerts: byId(snapshot.alerts.map(alertFrom)),
    crowd: byId(snapshot.crowd.map(crowdFrom), "area_id"),
  };
}

// The alert an alert event belongs to, made up from the event when it is new (the page then
// fetches its full record and plan).
function alertFor(state, e, at) {
  let alert = state.alerts[e.alert_id];
  const isNew = !alert;
  if (isNew) {
    alert = {
      id: e.alert_id, area_id: e.area_id, status: "open", level: "none", peak_level: "none",
      cause: null, ratio: null, density: null, predicted_level: null, predicted_in_s: null,
      opened_at: at, changed_at: at, steps: {},
    };
    state.alerts[e.alert_id] = alert;
  }
  return [alert, isNew];
}

const handlers = {
  "incident.created"(state, e, at) {
    if (!state.incidents[e.incident_id]) {
      state.incidents[e.incident_id] = {
        id: e.incident_id, type: e.type, priority: e.priority, status: "received",
        lon: e.lon, lat: e.lat, area_id: e.area_id, place: e.place, received_at: at,
        closed_at: null, assignments: {},
      };
    }
    return { incident: e.incident_id };
  },
  "incident.status"(state, e, at) {
    const incident = state.incidents[e.incident_id];
    if (!incident) return { incident: e.incident_id, fetch: "incident" };
    incident.status = e.status;
    incident.closed_at = CLOSED_INCIDENT.has(e.status) ? at : null;
    return { incident: e.incident_id };
  },
  "incident.assignment"(state, e) {
    const incident = state.incidents[e.incident_id];
    if (!incident) return { incident: e.incident_id, fetch: "incident" };
    incident.assignments[e.unit_id] = { unit_id: e.unit_id, status: e.status, eta_s: e.eta_s };
    return { incident: e.incident_id, unit: e.unit_id };
  },
  "unit.status"(state, e) {
    const unit = state.units[e.unit_id];
    if (!unit) return { unit: e.unit_id, fetch: "unit" };
    unit.status = e.status;
    unit.label = e.label;
    return { unit: e.unit_id };
  },
  "unit.position"(state, e) {
    const unit = state.units[e.unit_id];
    if (!unit) return { unit: e.unit_id, fetch: "unit" };
    Object.assign(unit, { lon: e.lon, lat: e.lat, reported_at: e.reported_at });
    return { unit: e.unit_id, moved: true };
  },
  "crowd.occupancy"(state, e) {
    state.crowd[e.area_id] = crowdFrom(e);
    return { area: e.area_id };
  },
  "crowd.alert.level"(state, e, at) {
    const [alert, isNew] = alertFor(state, e, at);
    Object.assign(alert, {
      level: e.level, cause: e.cause, ratio: e.ratio, density: e.density, changed_at: at,
    });
    if (LEVELS.indexOf(e.level) > LEVELS.indexOf(alert.peak_level)) alert.peak_level = e.level;
    return { alert: e.alert_id, area: e.area_id, fetch: isNew ? "alert" : undefined };
  },
  "crowd.alert.predicted"(state, e, at) {
    const [alert, isNew] = alertFor(state, e, at);
    Object.assign(alert, { predicted_level: e.level, predicted_in_s: e.in_s });
    return { alert: e.alert_id, area: e.area_id, fetch: isNew ? "alert" : undefined };
  },
  "crowd.alert.handled"(state, e) {
    const alert = state.alerts[e.alert_id];
    if (e.status === "closed") {
      delete state.alerts[e.alert_id];
      return { alert: e.alert_id, area: e.area_id };
    }
    if (!alert) return { alert: e.alert_id, fetch: "alert" };
    alert.status = e.status;
    return { alert: e.alert_id, area: e.area_id };
  },
  "crowd.plan.started"(state, e) {
    return { alert: e.alert_id, fetch: "alert" };
  },
  "crowd.plan.step"(state, e) {
    for (const alert of Object.values(state.alerts)) {
      const step = alert.steps[e.step_id];
      if (step) {
        step.status = e.status;
        step.incident_id = e.incident_id ?? step.incident_id;
        return { alert: alert.id };
      }
    }
    return { fetch: "alerts" };
  },
  "stream.gap"() {
    return { fetch: "snapshot" };
  },
};

// Apply one stream message; returns what changed (and what to fetch, when the event alone
// cannot say everything: a new alert's plan, an incident from before the snapshot).
export function apply(state, message) {
  if (message.seq !== null && message.seq !== undefined) {
    state.seq = Math.max(state.seq, message.seq);
  }
  const handler = handlers[message.topic];
  if (!handler) return {};
  return handler(state, message.event, message.event.occurred_at);
}

// Replace one alert (with its plan) by the server's full record of it.
export function putAlert(state, raw) {
  if (raw.status === "closed") delete state.alerts[raw.id];
  else {
    const steps = (raw.plans || []).flatMap((run) => run.steps.map((s) => ({ ...s, run_id: run.run_id })));
    state.alerts[raw.id] = alertFrom({ ...raw, steps });
  }
}

export function putIncident(state, raw) {
  state.incidents[raw.id] = incidentFrom(raw);
}

export function putUnit(state, raw) {
  state.units[raw.id] = { ...raw };
}

export const isOpen = (incident) => !["resolved", "closed", "cancelled"].includes(incident.status);

// Whether a unit's position is too old to trust, by the venue's clock.
export function isStale(unit, venueNowMs, maxAgeS) {
  if (!unit.reported_at) return true;
  return venueNowMs - Date.parse(unit.reported_at) > maxAgeS * 1000;
}

const ms = (text) => (text ? Date.parse(text) : null);

// What must match between a state kept live and a fresh snapshot: everything the page shows
// from its state, times as instants (the server writes them in more than one ISO form).
export function comparable(state) {
  const units = {};
  for (const u of Object.values(state.units)) {
    units[u.id] = { status: u.status, label: u.label, lon: u.lon, lat: u.lat, reported_at: ms(u.reported_at) };
  }
  const incidents = {};
  const dayStart = ms(state.dayStart);
  for (const i of Object.values(state.incidents)) {
    // A snapshot holds open incidents and today's; an older one closed since drops out.
    if (!isOpen(i) && ms(i.received_at) < dayStart) continue;
    incidents[i.id] = {
      type: i.type, priority: i.priority, status: i.status, lon: i.lon, lat: i.lat,
      area_id: i.area_id, place: i.place, received_at: ms(i.received_at), closed_at: ms(i.closed_at),
      assignments: Object.values(i.assignments)
        .map((a) => ({ unit_id: a.unit_id, status: a.status, eta_s: a.eta_s }))
        .sort((a, b) => a.unit_id.localeCompare(b.unit_id)),
    };
  }
  const alerts = {};
  for (const a of Object.values(state.alerts)) {
    alerts[a.id] = {
      status: a.status, level: a.level, area_id: a.area_id,
      steps: Object.fromEntries(Object.values(a.steps).map((s) => [s.id, s.status])),
    };
  }
  return { units, incidents, alerts, crowd: state.crowd };
}
