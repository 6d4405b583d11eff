// Crowd alerts and their emergency plans: acknowledge, tick steps off, close.
import { api } from "./api.js";
import { formatSeconds, formatTime, nameOf, t } from "./i18n.js";

const $ = (id) => document.getElementById(id);

function button(label, onclick, attrs = {}) {
  const node = document.createElement("button");
  node.type = "button";
  node.textContent = label;
  node.onclick = onclick;
  Object.assign(node, attrs);
  return node;
}

export class AlertPanel {
  constructor(ctx) {
    this.ctx = ctx;
  }

  async run(action, ...args) {
    try {
      await action(...args);
    } catch (error) {
      $("no-alerts").hidden = false;
      $("no-alerts").textContent = error.message;
    }
  }

  render() {
    const alerts = Object.values(this.ctx.state.alerts).sort((a, b) => b.id - a.id);
    $("no-alerts").hidden = alerts.length > 0;
    $("no-alerts").textContent = t("alerts.none");
    $("alerts").replaceChildren(...alerts.map((alert) => this.card(alert)));
  }

  card(alert) {
    const item = document.createElement("li");
    item.className = `alert lvl-${alert.level}`;
    item.dataset.alert = String(alert.id);
    const title = document.createElement("h3");
    title.textContent = `${this.ctx.map.areaLabel(alert.area_id)} — ${t(`level.${alert.level}`)}`;
    const facts = document.createElement("p");
    facts.className = "muted";
    const parts = [t(`alert.status.${alert.status}`), `${t("alert.opened")} ${formatTime(alert.opened_at)}`];
    if (alert.ratio !== null) parts.push(`${Math.round(alert.ratio * 100)} %`);
    if (alert.predicted_level && alert.predicted_in_s !== null) {
      parts.push(t("alert.predicted", { level: t(`level.${alert.predicted_level}`), in: formatSeconds(alert.predicted_in_s) }));
    }
    facts.textContent = parts.join(" · ");
    item.append(title, facts);
    const steps = Object.values(alert.steps).sort((a, b) => a.number - b.number);
    if (steps.length) {
      const list = document.createElement("ol");
      list.className = "checklist";
      for (const step of steps) list.append(this.step(step));
      item.append(list);
    }
    if (this.ctx.canCommand) {
      const row = document.createElement("div");
      row.className = "row";
      if (alert.status === "open") {
        row.append(button(t("alert.acknowledge"), () => this.run(() => api(`/alerts/${alert.id}/acknowledge`, { method: "POST", body: {} }))));
      }
      row.append(button(t("alert.close"), () => this.run(() => api(`/alerts/${alert.id}/close`, { method: "POST", body: {} })), {
        disabled: alert.level !== "none",
        title: alert.level !== "none" ? t("alert.close_when_clear") : "",
      }));
      item.append(row);
    }
    return item;
  }

  step(step) {
    const item = document.createElement("li");
    item.dataset.step = String(step.id);
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = step.status === "done";
    box.disabled = step.status !== "pending" || !this.ctx.canCommand;
    box.onchange = () => this.run(() => api(`/plan-steps/${step.id}`, { method: "POST", body: { status: "done" } }));
    const label = document.createElement("span");
    label.textContent = `${nameOf(step.text)} (${t(`step.status.${step.status}`)}, ${t("step.due")} ${formatTime(step.due_at)})`;
    item.append(box, label);
    if (step.status === "pending" && this.ctx.canCommand) {
      item.append(button(t("step.skip"), () => {
        const note = prompt(t("step.skip_why"));
        if (note) this.run(() => api(`/plan-steps/${step.id}`, { method: "POST", body: { status: "skipped", note } }));
      }));
    }
    return item;
  }
}
