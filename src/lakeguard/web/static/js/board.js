// The incident board: report an incident (by place name or on the map), the queue by priority
// and age, and the selected incident with its recommended units, dispatch and timeline.
import { api } from "./api.js";
import { formatSeconds, formatTime, nameOf, t } from "./i18n.js";
import { isOpen } from "./state.js";

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

export class Board {
  constructor(ctx) {
    this.ctx = ctx;
    this.selected = null;
    this.picked = null;
    this.picking = false;
    this.recommendation = null;
    // The dispatcher's changes to the recommendation: units struck off, units added by hand.
    this.struck = new Set();
    this.added = [];
    this.detail = null;
    this.bindCreate();
    $("dispatch").onclick = () => this.dispatch();
    $("add-unit").onsubmit = (event) => {
      event.preventDefault();
      this.addUnit();
    };
    $("close-incident").onclick = () => this.act("close");
    $("cancel-incident").onclick = () => this.act("cancel");
  }

  typeName(code) {
    const plan = this.ctx.types[code];
    return plan ? nameOf(plan.name) : code;
  }

  placeOf(incident) {
    return incident.area_id ? this.ctx.map.areaLabel(incident.area_id) : incident.place;
  }

  unitLabel(unitId) {
    const unit = this.ctx.state.units[unitId];
    return unit ? `${unit.callsign} ${nameOf(unit.name)}` : unitId;
  }

  fillTypes() {
    const select = document.querySelector("#create select[name=type]");
    const current = select.value;
    select.textContent = "";
    const plans = Object.values(this.ctx.types).sort((a, b) => a.priority - b.priority);
    for (const plan of plans) {
      select.append(el("option", { value: plan.code, textContent: `P${plan.priority} ${nameOf(plan.name)}` }));
    }
    if (current) select.value = current;
  }

  bindCreate() {
    const form = $("create");
    const place = form.elements.place;
    let pending = 0;
    place.addEventListener("input", async () => {
      const q = place.value.trim();
      const ticket = ++pending;
      if (!q) return;
      const names = await api(`/places?q=${encodeURIComponent(q)}`).catch(() => []);
      if (ticket !== pending) return;
      $("place-options").replaceChildren(...names.map((n) => el("option", { value: n })));
    });
    $("pick").onclick = () => {
      this.picking = !this.picking;
      $("pick-hint").hidden = !this.picking;
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      $("create-error").textContent = "";
      const body = {
        type: form.elements.type.value,
        source: form.elements.source.value,
        description: form.elements.description.value,
      };
      if (this.picked) Object.assign(body, { lon: this.picked[0], lat: this.picked[1] });
      if (place.value.trim()) body.place = place.value.trim();
      try {
        const created = await api("/incidents", { method: "POST", body });
        form.reset();
        this.picked = null;
        $("picked").textContent = "";
        await this.ctx.refreshIncident(created.id);
        this.select(created.id);
      } catch (error) {
        const hints = error.problem?.suggestions;
        $("create-error").textContent = hints?.length
          ? `${error.message} — ${t("create.did_you_mean")} ${hints.join(", ")}`
          : error.message;
      }
    });
  }

  // A click on the map while picking a place: it becomes the new incident's location.
  mapClicked(lon, lat) {
    if (!this.picking) return false;
    this.picking = false;
    $("pick-hint").hidden = true;
    this.picked = [lon, lat];
    $("picked").textContent = `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
    return true;
  }

  renderQueue() {
    const now = this.ctx.venueNow();
    const open = Object.values(this.ctx.state.incidents)
      .filter(isOpen)
      .sort((a, b) => a.priority - b.priority || Date.parse(a.received_at) - Date.parse(b.received_at));
    $("queue").replaceChildren(
      ...open.map((incident) =>
        el(
          "li",
          {
            class: `p${incident.priority}${incident.id === this.selected ? " selected" : ""}`,
            "data-incident": String(incident.id),
            onclick: () => this.select(incident.id),
          },
          el("span", { class: "prio", textContent: `P${incident.priority}` }),
          el("span", { class: "what", textContent: this.typeName(incident.type) }),
          el("span", { class: "where", textContent: this.placeOf(incident) }),
          el("span", { class: "age", textContent: formatSeconds((now - Date.parse(incident.received_at)) / 1000) }),
          el("span", { class: "status", textContent: t(`status.${incident.status}`) }),
        ),
      ),
    );
    if (!open.length) $("queue").append(el("li", { class: "muted", textContent: t("board.empty") }));
  }

  async select(incidentId) {
    this.selected = incidentId;
    this.recommendation = null;
    this.struck = new Set();
    this.added = [];
    $("incident").hidden = false;
    $("incident-error").textContent = "";
    const incident = this.ctx.state.incidents[incidentId];
    if (incident) this.ctx.map.flyTo(incident.lat, incident.lon);
    this.renderQueue();
    this.renderIncident();
    await Promise.all([this.loadDetail(), this.loadRecommendation()]);
  }

  async loadDetail() {
    const id = this.selected;
    if (id === null) return;
    const detail = await api(`/incidents/${id}`).catch(() => null);
    if (id !== this.selected) return;
    this.detail = detail;
    this.renderIncident();
  }

  async loadRecommendation() {
    const id = this.selected;
    const incident = this.ctx.state.incidents[id];
    if (!this.ctx.canCommand || !incident || !isOpen(incident)) {
      this.recommendation = null;
    } else {
      this.recommendation = await api(`/incidents/${id}/recommendation`).catch(() => null);
    }
    if (id === this.selected) this.renderIncident();
  }

  // An event touched this incident: its state is already current; refresh what the event
  // does not carry (the timeline, and the recommendation while units are still to be sent).
  changed(incidentId) {
    if (incidentId !== this.selected) return;
    this.renderIncident();
    clearTimeout(this.reload);
    this.reload = setTimeout(() => {
      this.loadDetail();
      this.loadRecommendation();
    }, 150);
  }

  renderIncident() {
    const incident = this.ctx.state.incidents[this.selected];
    if (!incident) {
      $("incident").hidden = true;
      return;
    }
    $("incident-title").textContent = `#${incident.id} ${this.typeName(incident.type)} — ${this.placeOf(incident)}`;
    $("incident-meta").textContent = [
      `P${incident.priority}`,
      t(`status.${incident.status}`),
      `${t("incident.received")} ${formatTime(incident.received_at)}`,
    ].join(" · ");
    $("incident-description").textContent = this.detail?.id === incident.id ? this.detail.description : "";
    $("assignments").replaceChildren(
      ...Object.values(incident.assignments).map((a) =>
        el(
          "li",
          { "data-unit": a.unit_id },
          el("span", { class: "callsign", textContent: this.unitLabel(a.unit_id) }),
          el("span", { class: `status s-${a.status}`, textContent: t(`status.${a.status}`) }),
          el("span", { class: "eta", textContent: `${t("incident.eta")} ${formatSeconds(a.eta_s)}` }),
        ),
      ),
    );
    this.renderRecommendation(incident);
    const canAct = this.ctx.canCommand;
    $("close-incident").hidden = !canAct || incident.status !== "resolved";
    $("cancel-incident").hidden = !canAct || !["received", "dispatched", "acknowledged"].includes(incident.status);
    const timeline = this.detail?.id === incident.id ? this.detail.timeline : [];
    $("timeline").replaceChildren(
      ...timeline.map((step) =>
        el(
          "li",
          {},
          `${formatTime(step.at)} `,
          step.unit_id ? `${this.unitLabel(step.unit_id)}: ` : "",
          t(`status.${step.to}`),
          el("span", { class: "muted", textContent: ` (${step.actor})` }),
        ),
      ),
    );
  }

  renderRecommendation(incident) {
    const rec = this.recommendation;
    const show = this.ctx.canCommand && isOpen(incident) && rec !== null;
    $("recommendation-box").hidden = !show;
    if (!show) return;
    // The recommendation does not count units already sent: past the first dispatch it is
    // what another dispatch would add.
    const sent = Object.keys(incident.assignments).length > 0;
    $("recommended-title").textContent = t(sent ? "incident.recommended_more" : "incident.recommended");
    const picks = [
      ...rec.units,
      ...this.added.map((id) => ({ unit_id: id, eta_s: null, reasons: ["dispatcher_choice"] })),
    ];
    $("recommendation").replaceChildren(
      ...picks.map((pick) =>
        el(
          "li",
          { "data-unit": pick.unit_id },
          el("input", {
            type: "checkbox",
            class: "pick",
            checked: !this.struck.has(pick.unit_id),
            title: t("incident.pick"),
            onchange: (event) => {
              if (event.target.checked) this.struck.delete(pick.unit_id);
              else this.struck.add(pick.unit_id);
              this.renderDispatchButton();
            },
          }),
          el("span", { class: "callsign", textContent: this.unitLabel(pick.unit_id) }),
          el("span", { class: "eta", textContent: formatSeconds(pick.eta_s) }),
          el("span", { class: "reasons", textContent: pick.reasons.map((r) => t(`reason.${r}`)).join(", ") }),
        ),
      ),
    );
    this.fillUnitOptions(incident);
    $("shortfalls").textContent = rec.shortfalls
      .map((g) => t("shortfall", { missing: g.missing, capability: g.capability ? t(`capability.${g.capability}`) : t("capability.any"), why: t(`shortfall.${g.code}`) }))
      .join("; ");
    this.renderDispatchButton();
  }

  // The units ticked: the recommendation less those struck off, plus those added by hand.
  chosen() {
    const recommended = (this.recommendation?.units || []).map((pick) => pick.unit_id);
    return [...recommended, ...this.added].filter((id) => !this.struck.has(id));
  }

  renderDispatchButton() {
    const changed = this.struck.size > 0 || this.added.length > 0;
    $("dispatch").textContent = t(changed ? "incident.dispatch_chosen" : "incident.dispatch");
    $("dispatch").disabled = this.chosen().length === 0;
  }

  // Units a dispatcher may add: available ones not already on or offered for the incident.
  fillUnitOptions(incident) {
    const taken = new Set([...Object.keys(incident.assignments), ...this.chosen(), ...this.struck]);
    const options = Object.values(this.ctx.state.units)
      .filter((unit) => unit.status === "available" && !taken.has(unit.id))
      .sort((a, b) => a.callsign.localeCompare(b.callsign))
      .map((unit) => el("option", { value: unit.callsign, textContent: nameOf(unit.name) }));
    $("unit-options").replaceChildren(...options);
  }

  addUnit() {
    const input = $("add-unit").querySelector("input");
    const wanted = input.value.trim().toLowerCase();
    const unit = Object.values(this.ctx.state.units).find(
      (u) => u.callsign.toLowerCase() === wanted || u.id === wanted,
    );
    $("incident-error").textContent = "";
    if (!unit) {
      $("incident-error").textContent = t("incident.no_such_unit", { unit: input.value });
      return;
    }
    this.struck.delete(unit.id);
    if (!this.chosen().includes(unit.id)) this.added.push(unit.id);
    input.value = "";
    this.renderIncident();
  }

  async dispatch() {
    const id = this.selected;
    $("incident-error").textContent = "";
    const changed = this.struck.size > 0 || this.added.length > 0;
    // Unchanged, the recommendation goes as it stands (with its ETAs); otherwise the units ticked.
    const body = changed ? { unit_ids: this.chosen() } : { accept_recommendation: true };
    try {
      await api(`/incidents/${id}/dispatch`, { method: "POST", body });
      this.struck = new Set();
      this.added = [];
    } catch (error) {
      $("incident-error").textContent = error.message;
    }
  }

  async act(what) {
    $("incident-error").textContent = "";
    try {
      await api(`/incidents/${this.selected}/${what}`, { method: "POST" });
    } catch (error) {
      $("incident-error").textContent = error.message;
    }
  }
}
