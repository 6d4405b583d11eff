// The venue map, drawn from the scenario's own layers: no tile server is needed (none may be
// reachable from a command room network). Areas are coloured by how full they are.
import * as L from "/vendor/leaflet/dist/leaflet-src.esm.js";
import { nameOf, t } from "./i18n.js";

const KIND_GLYPH = {
  officer: "P", auxiliary: "A", plainclothes: "C", security_guard: "G", team: "T",
  patrol_car: "V", boat: "B", drone: "D",
};
// Units shown in three layers a dispatcher can switch: 1,700 guards would otherwise bury the
// 300 police units on the map.
const KIND_GROUP = {
  officer: "police", auxiliary: "police", plainclothes: "police", team: "police",
  patrol_car: "craft", boat: "craft", drone: "craft", security_guard: "guards",
};
const UNIT_GROUPS = ["police", "craft", "guards"];
const DOMAIN_FILL = { water: "#9cc9e8", mountain: "#c9dcb6", land: "#ecebe4", air: "#eeeeee" };

// Occupancy over capacity to a colour: green below 80 %, then the alert levels' colours.
export function ratioColour(ratio) {
  if (ratio === null || ratio === undefined) return null;
  if (ratio >= 1) return "#d7301f";
  if (ratio >= 0.9) return "#fc8d59";
  if (ratio >= 0.8) return "#fdcc3a";
  if (ratio >= 0.5) return "#a6d96a";
  return "#66bd63";
}

export class VenueMap {
  constructor(element, { layers, onAreaClick, onUnitClick, onIncidentClick, onMapClick }) {
    this.map = L.map(element, { zoomSnap: 0.25, attributionControl: false, preferCanvas: false });
    this.handlers = { onAreaClick, onUnitClick, onIncidentClick, onMapClick };
    this.areaLayers = {};
    this.unitMarkers = {};
    this.incidentMarkers = {};
    this.alertMarkers = {};
    this.areaNames = {};
    this.drawVenue(layers);
    this.map.on("click", (e) => this.handlers.onMapClick(e.latlng.lng, e.latlng.lat));
  }

  drawVenue({ areas, network, posts }) {
    L.geoJSON(network, { style: { color: "#b8b2a6", weight: 1, interactive: false } }).addTo(this.map);
    const areaLayer = L.geoJSON(areas, {
      style: (f) => ({
        color: "#777", weight: 1, fillOpacity: 0.55,
        fillColor: DOMAIN_FILL[f.properties.domain] || "#eee",
      }),
      onEachFeature: (feature, layer) => {
        const id = feature.properties.id;
        this.areaLayers[id] = { layer, feature };
        this.areaNames[id] = feature.properties.name;
        layer.on("click", (e) => {
          L.DomEvent.stopPropagation(e);
          this.handlers.onAreaClick(id, e.latlng);
        });
        layer.bindTooltip(() => nameOf(feature.properties.name), { sticky: true });
      },
    }).addTo(this.map);
    const bounds = areaLayer.getBounds().pad(0.02);
    this.map.fitBounds(bounds);
    // The container may still be settling into its grid cell: measure again, then fit.
    requestAnimationFrame(() => {
      this.map.invalidateSize();
      this.map.fitBounds(bounds);
    });
    L.geoJSON(posts, {
      pointToLayer: (_f, latlng) =>
        L.circleMarker(latlng, { radius: 3, color: "#444", weight: 1, fillColor: "#fff", fillOpacity: 1 }),
      style: { color: "#555", weight: 2, dashArray: "4 4" },
      onEachFeature: (f, layer) => layer.bindTooltip(() => nameOf(f.properties.name)),
    }).addTo(this.map);
    this.unitLayers = {};
    const overlays = {};
    for (const group of UNIT_GROUPS) {
      this.unitLayers[group] = L.layerGroup().addTo(this.map);
      const key = `map.units.${group}`;
      overlays[`<span data-i18n="${key}" data-unit-layer="${group}">${t(key)}</span>`] =
        this.unitLayers[group];
    }
    L.control.layers(null, overlays, { collapsed: false, position: "topright" }).addTo(this.map);
    this.incidentLayer = L.layerGroup().addTo(this.map);
    this.alertLayer = L.layerGroup().addTo(this.map);
  }

  centreOf(areaId) {
    const entry = this.areaLayers[areaId];
    return entry ? entry.layer.getBounds().getCenter() : null;
  }

  colourArea(areaId, crowd) {
    const entry = this.areaLayers[areaId];
    if (!entry) return;
    const colour = ratioColour(crowd && crowd.ratio);
    const fill = colour || DOMAIN_FILL[entry.feature.properties.domain] || "#eee";
    entry.layer.setStyle({ fillColor: fill, fillOpacity: colour ? 0.7 : 0.55 });
    entry.layer.getElement()?.setAttribute("data-area", areaId);
  }

  // A unit drawn where it is, or at its home post (hollow) when it has never reported.
  putUnit(unit, stale) {
    const where = unit.lon !== null ? [unit.lat, unit.lon] : unit.home ? [unit.home[1], unit.home[0]] : null;
    let marker = this.unitMarkers[unit.id];
    if (!where) {
      if (marker) marker.remove();
      return;
    }
    const classes = `unit k-${unit.kind} s-${unit.status}${stale ? " stale" : ""}`;
    const html = `<span class="${classes}" data-unit="${unit.id}">${KIND_GLYPH[unit.kind] || "?"}</span>`;
    if (!marker) {
      marker = L.marker(where, { icon: L.divIcon({ className: "unit-icon", html, iconSize: [16, 16] }) });
      marker.on("click", (e) => {
        L.DomEvent.stopPropagation(e);
        this.handlers.onUnitClick(unit.id);
      });
      marker.addTo(this.unitLayers[KIND_GROUP[unit.kind] || "police"]);
      this.unitMarkers[unit.id] = marker;
      marker.lastHtml = html;
    } else {
      marker.setLatLng(where);
      if (marker.lastHtml !== html) {
        marker.setIcon(L.divIcon({ className: "unit-icon", html, iconSize: [16, 16] }));
        marker.lastHtml = html;
      }
    }
  }

  putIncident(incident, open) {
    let marker = this.incidentMarkers[incident.id];
    if (!open) {
      if (marker) marker.remove();
      delete this.incidentMarkers[incident.id];
      return;
    }
    const html = `<span class="incident-pin p${incident.priority}" data-incident="${incident.id}">!</span>`;
    if (!marker) {
      marker = L.marker([incident.lat, incident.lon], {
        icon: L.divIcon({ className: "incident-icon", html, iconSize: [22, 22] }),
        zIndexOffset: 1000,
      });
      marker.on("click", (e) => {
        L.DomEvent.stopPropagation(e);
        this.handlers.onIncidentClick(incident.id);
      });
      marker.addTo(this.incidentLayer);
      this.incidentMarkers[incident.id] = marker;
    }
  }

  putAlert(alert) {
    let marker = this.alertMarkers[alert.id];
    const centre = this.centreOf(alert.area_id);
    if (!alert || alert.status === "closed" || !centre) {
      if (marker) marker.remove();
      delete this.alertMarkers[alert.id];
      return;
    }
    const html = `<span class="hotspot lvl-${alert.level}" data-alert="${alert.id}"></span>`;
    if (marker) marker.setIcon(L.divIcon({ className: "alert-icon", html, iconSize: [40, 40] }));
    else {
      marker = L.marker(centre, {
        icon: L.divIcon({ className: "alert-icon", html, iconSize: [40, 40] }),
        interactive: false,
      }).addTo(this.alertLayer);
      this.alertMarkers[alert.id] = marker;
    }
  }

  dropAlert(alertId) {
    this.alertMarkers[alertId]?.remove();
    delete this.alertMarkers[alertId];
  }

  flyTo(lat, lon) {
    this.map.panTo([lat, lon]);
  }

  areaLabel(areaId) {
    return nameOf(this.areaNames[areaId]) || areaId || t("place.unknown");
  }
}
