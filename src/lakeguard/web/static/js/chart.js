// An area's occupancy: the sampled history with its 80 % interval, the forecast with its
// range, and the capacity.
import uPlot from "/vendor/uplot/dist/uPlot.esm.js";
import { t } from "./i18n.js";

let chart = null;
const Z80 = 1.2816; // the central 80 % interval of a normal estimate: mean ± Z80 · std

export function drawOccupancy(element, series, capacity, venueNowMs) {
  if (chart) chart.destroy();
  element.textContent = "";
  const history = series.history.map((p) => [
    Date.parse(p.at) / 1000,
    p.occupancy,
    Math.max(0, p.occupancy - Z80 * (p.std ?? 0)),
    p.occupancy + Z80 * (p.std ?? 0),
  ]);
  const now = venueNowMs / 1000;
  const forecast = series.forecast.map((f) => [now + f.horizon_s, f.value, f.low, f.high]);
  if (!history.length && !forecast.length) {
    element.textContent = t("area.no_data");
    return;
  }
  // One x axis for all series; a series is null where it has no point.
  const xs = [...history.map((p) => p[0]), ...forecast.map((p) => p[0])];
  const pad = (values, offset) => [...Array(offset).fill(null), ...values];
  const n = history.length;
  const data = [
    xs,
    [...history.map((p) => p[1]), ...Array(forecast.length).fill(null)],
    pad(forecast.map((p) => p[1]), n),
    pad(forecast.map((p) => p[2]), n),
    pad(forecast.map((p) => p[3]), n),
    xs.map(() => capacity ?? null),
    [...history.map((p) => p[2]), ...Array(forecast.length).fill(null)],
    [...history.map((p) => p[3]), ...Array(forecast.length).fill(null)],
  ];
  // The forecast starts from the last sample, so the two lines meet.
  if (n && forecast.length) {
    data[2][n - 1] = data[1][n - 1];
  }
  chart = new uPlot(
    {
      width: 340,
      height: 180,
      spanGaps: true,
      series: [
        {},
        { label: t("area.history"), stroke: "#2b6cb0", width: 2 },
        { label: t("area.forecast"), stroke: "#2b6cb0", dash: [6, 4], width: 2 },
        { label: t("area.low"), stroke: "#90b4dc", dash: [2, 3] },
        { label: t("area.high"), stroke: "#90b4dc", dash: [2, 3] },
        { label: t("area.capacity"), stroke: "#d7301f", width: 1 },
        { label: t("area.low"), stroke: "#c3d5ea", width: 1 },
        { label: t("area.high"), stroke: "#c3d5ea", width: 1 },
      ],
      // The estimate's 80 % interval, shaded between its two bounds.
      bands: [{ series: [7, 6], fill: "rgba(43, 108, 176, 0.15)" }],
      legend: { show: false },
    },
    data,
    element,
  );
}
