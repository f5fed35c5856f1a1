// Searchable pickers: every <select data-picker="kind" data-purpose="…"> becomes a Tom Select
// (static/vendor/tom-select, from npm) that asks our search endpoint, /api/v1/pick/<kind>, as the
// user types: name, full pinyin or initials ("hzq" finds 黄志强). The server ranks and scopes the
// choices (what the actor may choose for that purpose); each shows a detail line that tells
// namesakes apart. The form still posts the plain select's value, and the server checks it again.
// window.gzPicker(select) sets up one more (the whistle form's "add a row").
// A picker may follow another field of its form: data-follows-kind="scope_kind" searches the kind
// that field names (place, grid, organisation; places and grids post their code); data-follows-community=
// "community" passes that field's value as the community (the team leader's picker). When the field
// changes, the picker starts again, empty.
(function () {
  var esc = window.gzEscape;

  function urlFor(select) {
    var params = new URLSearchParams();
    params.set("for", select.dataset.purpose || "registry");
    if (select.dataset.appeal) params.set("appeal", select.dataset.appeal);
    if (select.dataset.need) params.set("need", select.dataset.need);
    if (select.dataset.team) params.set("team", select.dataset.team);
    if (select.dataset.community) params.set("community", select.dataset.community);
    params.set("limit", select.dataset.limit || "20");
    return "/api/v1/pick/" + encodeURIComponent(select.dataset.picker) + "?" + params.toString();
  }

  function optionHtml(d) {
    return '<div class="pick-option"><span class="pick-label">' + esc(d.label) + "</span>" +
      (d.detail ? ' <small class="pick-detail">' + esc(d.detail) + "</small>" : "") + "</div>";
  }

  function setup(select) {
    if (!window.TomSelect || select.tomselect || !select.dataset.picker) return null;
    var base = urlFor(select), ranks = {}, messages = select.dataset, field = select.dataset.valueField || "value";
    var ts = new window.TomSelect(select, {
      valueField: field, labelField: "label", searchField: ["label"],
      maxOptions: 50, loadThrottle: 250, preload: "focus", openOnFocus: true,
      allowEmptyOption: false, create: false, maxItems: select.multiple ? null : 1,
      placeholder: messages.placeholder || "",
      // Several chosen: each with its remove button; one, optional: a button that clears it (back to "all").
      plugins: select.multiple ? ["remove_button"] : (select.required ? [] : ["clear_button"]),
      // The server already matched pinyin and scope: show what it returned for this very query,
      // in its order (a pinyin query never matches the label on the client).
      score: function (query) {
        var rank = ranks[query];
        return function (item) {
          var i = rank ? rank[String(item[field])] : undefined;
          return i === undefined ? 0 : 1 + 1 / (1 + i);
        };
      },
      shouldLoad: function () { return true; },
      load: function (query, callback) {
        var self = this;
        fetch(base + "&q=" + encodeURIComponent(query), {
          credentials: "same-origin", headers: { Accept: "application/json" }
        }).then(function (r) {
          return r.ok ? r.json() : r.json().then(function (b) { throw new Error((b.error || {}).message || r.status); });
        }).then(function (data) {
          var rank = {};
          data.results.forEach(function (d, i) { rank[String(d[field])] = i; });
          ranks[query] = rank;
          self.loadedSearches = {};  // always ask again: scope and data change, and the answer is small
          callback(data.results);
        }).catch(function (err) {
          ranks[query] = {};
          select.dispatchEvent(new CustomEvent("picker:error", { detail: String(err.message || err) }));
          callback();
        });
      },
      render: {
        option: function (d) { return optionHtml(d); },
        item: function (d) { return optionHtml(d); },
        no_results: function () { return '<div class="no-results">' + esc(messages.noResults || "") + "</div>"; },
        loading: function () { return '<div class="loading">' + esc(messages.loading || "") + "</div>"; }
      }
    });
    // The select's own label names the search box too (screen readers, the tests' getByLabel).
    var label = select.closest("label");
    if (label && ts.control_input) ts.control_input.setAttribute("aria-label", label.firstChild.textContent.trim());
    return ts;
  }

  function restart(select) {
    if (select.tomselect) select.tomselect.destroy();
    Array.prototype.slice.call(select.options).forEach(function (o) { if (o.value) o.remove(); });
    select.value = "";
    setup(select);
  }

  function follow(select) {
    var form = select.form, kindField = select.dataset.followsKind, communityField = select.dataset.followsCommunity;
    function field(name) { return form && name ? form.elements.namedItem(name) : null; }
    var byKind = field(kindField), byCommunity = field(communityField);
    if (byKind) {
      byKind.addEventListener("change", function () {
        select.dataset.picker = byKind.value;
        if (byKind.value === "organization") delete select.dataset.valueField; else select.dataset.valueField = "code";
        restart(select);
      });
    }
    if (byCommunity) {
      select.dataset.community = byCommunity.value || "";
      byCommunity.addEventListener("change", function () {
        if ((select.dataset.community || "") === (byCommunity.value || "")) return;
        select.dataset.community = byCommunity.value || "";
        restart(select);
      });
    }
  }

  window.gzPicker = setup;
  function all() {
    document.querySelectorAll("select[data-follows-kind], select[data-follows-community]").forEach(follow);
    document.querySelectorAll("select[data-picker]").forEach(setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all); else all();
})();
