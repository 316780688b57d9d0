// The results map. Everything it needs is in data attributes (no inline script), and the list
// beside it works without it: when tiles cannot load, the markers still show.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var markers = JSON.parse(el.dataset.markers || "[]");
  var center = el.dataset.center ? JSON.parse(el.dataset.center) : null;
  if (!markers.length && !center) { el.hidden = true; return; }
  // maxZoom here too: without a tile layer Leaflet has no zoom limit and fitBounds on one point breaks.
  var map = L.map(el, { scrollWheelZoom: false, maxZoom: 18 });
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, { maxZoom: 18, attribution: el.dataset.attribution || "" }).addTo(map);
  }
  var bounds = [];
  markers.forEach(function (m) {
    var marker = L.marker([m.lat, m.lon], { title: m.name }).addTo(map);
    var link = document.createElement("a");
    link.href = m.url;
    link.textContent = m.name;  // text, never HTML: names are user input
    marker.bindPopup(link);
    bounds.push([m.lat, m.lon]);
  });
  if (center) { bounds.push(center); }
  if (bounds.length === 1) { map.setView(bounds[0], 12); } else { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 14 }); }
  el.dataset.ready = "true";
}());
