// Patrol compliance for a day: each unit with a post, how much of it the positions account
// for, how much of its segment it walked, its time away from the post, and its hotspot stops.
import { api } from "./api.js";
import { t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

function percent(share) {
  return share === null || share === undefined ? "—" : `${Math.round(share * 100)}%`;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

export class PatrolPanel {
  constructor(ctx) {
    this.ctx = ctx;
    $("patrol-day").onchange = () => this.load();
    $("patrol-refresh").onclick = () => this.load();
  }

  // With no day chosen the server answers for the venue's local today, and says which it is.
  async load() {
    const day = $("patrol-day").value;
    $("patrol-error").textContent = "";
    try {
      const found = await api(day ? `/patrol/compliance?date=${day}` : "/patrol/compliance");
      $("patrol-day").value = found.date;
      this.render(found.units);
    } catch (error) {
      $("patrol-error").textContent = error.message;
    }
  }

  render(units) {
    const tracked = units.filter((u) => u.tracked_s > 0);
    const away = tracked.filter((u) => u.away_share > 0.25);
    $("patrol-summary").textContent = t("patrol.summary", { units: units.length, tracked: tracked.length, away: away.length });
    const rows = units
      .slice()
      .sort((a, b) => (b.away_share ?? -1) - (a.away_share ?? -1) || a.callsign.localeCompare(b.callsign))
      .map((u) => {
        const tr = document.createElement("tr");
        tr.dataset.unit = u.unit_id;
        if (u.away_share > 0.25) tr.className = "away";
        tr.append(
          cell(u.callsign),
          cell(u.post_id),
          cell(percent(u.on_duty_s ? u.tracked_s / u.on_duty_s : null), "num"),
          cell(percent(u.walked_share), "num"),
          cell(percent(u.away_share), "num"),
          cell(`${u.stops.length} (${u.koper_stops})`, "num"),
        );
        return tr;
      });
    $("patrol-rows").replaceChildren(...rows);
  }
}
