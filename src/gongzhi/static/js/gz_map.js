// One map setup for every map (the appeal form, staff entry, /map/, the public map): the configured
// tile layer with its attribution (settings GONGZHI_MAP_TILE_URL / _ATTRIBUTION); where the map
// opens (the user's last view, else their community or scope: {% map_config %}); the user's
// community outlined; community, grid and place names as labels, each shown only from the zoom
// where it fits inside its shape (so the map is readable with no tile server at all); and the place
// search box (Tom Select over GET /api/v1/places/search: name, pinyin or initials).
(function () {
  var esc = window.gzEscape;
  var configEl = document.getElementById("gz-map-config");
  var CONFIG = configEl ? JSON.parse(configEl.textContent) : { tiles: "", attribution: "", home: null, user: 0, t: {} };
  var DEFAULT_VIEW = [[22.82, 108.33], 12];
  var VIEW_KEY = "gz.map.view." + (CONFIG.user || 0);
  var FLY_ZOOM = { community: 16, compound: 17, building: 18, landmark: 18 };

  function lastView() {
    try {
      var v = JSON.parse(window.localStorage.getItem(VIEW_KEY) || "null");
      if (v && isFinite(v.lat) && isFinite(v.lon) && isFinite(v.zoom) && Math.abs(v.lat) <= 90 && Math.abs(v.lon) <= 180) return v;
    } catch (e) { /* storage off or garbled: open on the community */ }
    return null;
  }

  function remember(map) {
    try {
      var c = map.getCenter();
      window.localStorage.setItem(VIEW_KEY, JSON.stringify({ lat: c.lat, lon: c.lng, zoom: map.getZoom() }));
    } catch (e) { /* private mode: nothing to keep */ }
  }

  function homeBounds() {
    var b = CONFIG.home && CONFIG.home.bbox;
    return b ? L.latLngBounds([b[1], b[0]], [b[3], b[2]]) : null;
  }

  // A label fits when its text is narrower than its shape on screen (and the shape is in view).
  function fits(map, lyr, text) {
    var b = lyr.getBounds ? lyr.getBounds() : null;
    if (!b || !map.getBounds().intersects(b)) return false;
    var nw = map.latLngToContainerPoint(b.getNorthWest()), se = map.latLngToContainerPoint(b.getSouthEast());
    return Math.abs(se.x - nw.x) >= text.length * 13 + 10 && Math.abs(se.y - nw.y) >= 20;
  }

  // A grid's name without its community's (and the word 网格): "北宁社区第1片区1号微网格" -> "第1片区1号",
  // shown where the whole name does not fit but this does.
  function shortName(name) {
    return name.replace(/^.*?社区(?=.)/, "").replace(/(微网格|片区网格|总网格|网格)$/, "") || name;
  }

  // Labels on the shapes of a GeoJSON layer, re-checked after every move and zoom: a name that fits
  // is shown on its shape; one that does not is shown when the pointer is over the shape.
  // `top`: the name sits on the shape's top edge (a community's, so it never covers a grid's name).
  function labelShapes(map, layer, nameOf, className, top) {
    function refresh() {
      layer.eachLayer(function (lyr) {
        var full = nameOf(lyr.feature), short = shortName(full);
        var text = fits(map, lyr, full) ? full : short !== full && fits(map, lyr, short) ? short : null;
        var want = text ? "fixed:" + text : "hover";
        if (lyr._gzLabel === want) return;
        lyr._gzLabel = want;
        text = text || full;
        if (top) {
          if (lyr._gzTip) { lyr._gzTip.remove(); lyr._gzTip = null; }
          if (want !== "hover") {
            var b = lyr.getBounds();
            lyr._gzTip = L.tooltip({ permanent: true, direction: "top", className: "gz-label " + className, interactive: false })
              .setLatLng([b.getNorth(), b.getCenter().lng]).setContent(esc(text)).addTo(map);
          }
          return;
        }
        lyr.unbindTooltip();
        // Leaflet sets a string as HTML: the name goes in escaped.
        lyr.bindTooltip(esc(want === "hover" ? full : text), want !== "hover"
          ? { permanent: true, direction: "center", className: "gz-label " + className, interactive: false }
          : { sticky: true, className: "gz-hover" });
      });
    }
    map.on("zoomend moveend", refresh);
    refresh();
    return refresh;
  }

  function placeMarker(map, group, p) {
    var m = L.circleMarker([p.lat, p.lon], { radius: 5, color: "#7c2d12", weight: 2, fillColor: "#fb923c", fillOpacity: 0.9, interactive: false });
    m.bindTooltip(esc(p.label), { permanent: true, direction: "right", offset: [6, 0], className: "gz-label gz-place", interactive: false });
    m.addTo(group);
    return m;
  }

  // Compounds and landmarks of the home community, named on the map from zoom 16.
  function placeLabels(map) {
    var group = L.layerGroup();
    var home = CONFIG.home && CONFIG.home.community;
    if (!home) return group;
    fetch("/api/v1/places/search?kind=compound,landmark&limit=50&community=" + encodeURIComponent(home.id), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) { data.results.forEach(function (p) { placeMarker(map, group, p); }); });
    function sync() { if (map.getZoom() >= 16) group.addTo(map); else group.remove(); }
    map.on("zoomend", sync);
    sync();
    return group;
  }

  // Every community's outline and name (the district's map is readable without tiles); the user's
  // own community drawn stronger.
  function communities(map) {
    var home = CONFIG.home && CONFIG.home.community;
    return fetch("/api/v1/grids.geojson?level=community").then(function (r) { return r.ok ? r.json() : null; }).then(function (fc) {
      if (!fc) return null;
      var layer = L.geoJSON(fc, {
        interactive: false,
        style: function (f) {
          var mine = home && f.properties.community_code === home.code;
          return mine ? { color: "#b91c1c", weight: 3, fill: false, className: "gz-home" } : { color: "#64748b", weight: 1.5, fill: false, dashArray: "4 3" };
        },
      }).addTo(map);
      layer.bringToBack();
      labelShapes(map, layer, function (f) { return f.properties.name; }, "gz-community", true);
      return layer;
    });
  }

  function searchBox(map, onPlace) {
    var select = document.querySelector("select[data-place-search]");
    if (!select || !window.TomSelect) return null;
    var T = CONFIG.t || {}, marker = null, found = {};
    var ts = new window.TomSelect(select, {
      valueField: "key", labelField: "label", searchField: [], maxOptions: 50, loadThrottle: 250,
      create: false, maxItems: 1, placeholder: T.placeholder || "", closeAfterSelect: true,
      score: function () { return function () { return 1; }; },  // the server ranked them
      shouldLoad: function (q) { return q.trim().length > 0; },
      load: function (query, callback) {
        var self = this;
        fetch("/api/v1/places/search?limit=20&q=" + encodeURIComponent(query), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
          .then(function (data) {
            self.clearOptions();
            data.results.forEach(function (p) { p.key = p.kind + ":" + p.id; found[p.key] = p; });
            self.loadedSearches = {};
            callback(data.results);
          })
          .catch(function () { callback(); select.dispatchEvent(new CustomEvent("place:error", { detail: T.failed })); });
      },
      render: {
        option: function (d) {
          return '<div class="pick-option" data-testid="place-option"><span class="pick-label">' + esc(d.label) + '</span> <small class="pick-detail">' + esc(d.detail) + "</small></div>";
        },
        item: function (d) { return '<div>' + esc(d.label) + "</div>"; },
        no_results: function () { return '<div class="no-results">' + esc(T.noResults || "") + "</div>"; },
        loading: function () { return '<div class="loading">' + esc(T.loading || "") + "</div>"; },
      },
      onChange: function (value) {
        var p = found[value];
        if (!p) return;
        if (marker) marker.remove();
        marker = L.layerGroup().addTo(map);
        placeMarker(map, marker, p);
        map.setView([p.lat, p.lon], Math.max(map.getZoom(), FLY_ZOOM[p.kind] || 17));
        if (onPlace) onPlace(p);
        select.dispatchEvent(new CustomEvent("place:chosen", { detail: p, bubbles: true }));
      },
    });
    var label = select.closest("label");
    if (label && ts.control_input) ts.control_input.setAttribute("aria-label", label.firstChild.textContent.trim());
    return ts;
  }

  // The configured tile layer with its attribution (escaped: it is shown as HTML), or none.
  function tiles(map, el) {
    if (CONFIG.tiles) {
      L.tileLayer(CONFIG.tiles, { maxZoom: 19, attribution: CONFIG.attribution ? esc(CONFIG.attribution) : "" }).addTo(map);
    } else {
      el.classList.add("gz-no-tiles");
    }
  }

  // setup(el, {onPlace, fitTo}) -> {map, ready: Promise, home}. `fitTo` (lat, lon) wins over
  // every remembered view: e.g. the point already chosen on a form shown again after an error.
  function setup(el, opts) {
    opts = opts || {};
    var map = L.map(el, { tap: true });
    tiles(map, el);
    window.gzMaps = (window.gzMaps || []).concat([map]);
    var home = homeBounds(), last = lastView();
    if (opts.fitTo) map.setView(opts.fitTo, 17);
    else if (last) map.setView([last.lat, last.lon], last.zoom);
    else if (home) map.fitBounds(home, { padding: [8, 8] });
    else map.setView(DEFAULT_VIEW[0], DEFAULT_VIEW[1]);
    el.dataset.opened = opts.fitTo ? "point" : last ? "last" : home ? "home" : "default";
    map.on("moveend", function () { remember(map); });
    var ready = communities(map);
    placeLabels(map);
    searchBox(map, opts.onPlace);
    return { map: map, ready: ready, home: home, labelShapes: function (layer, nameOf, cls) { return labelShapes(map, layer, nameOf, cls); } };
  }

  window.gzMap = { setup: setup, tiles: tiles, config: CONFIG, labelShapes: labelShapes };
})();
