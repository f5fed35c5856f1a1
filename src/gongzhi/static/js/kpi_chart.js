// The KPI page's chart: bars of the first counts per child node and a line of the first rate (%).
// The numbers are all in the table; this only draws them (the page works without it).
(function () {
  var el = document.getElementById("kpi-chart");
  var src = document.getElementById("kpi-chart-data");
  if (!el || !src || !window.echarts) return;
  var d = JSON.parse(src.textContent);
  var chart = window.echarts.init(el, null, { renderer: "canvas" });
  var series = d.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; });
  series.push({ name: d.rate.name + " (%)", type: "line", yAxisIndex: 1, data: d.rate.data, connectNulls: true });
  chart.setOption({
    // Names (communities, categories) are user-supplied: the tooltip is HTML, so escape them.
    tooltip: {
      trigger: "axis",
      formatter: function (params) {
        var esc = window.echarts.format.encodeHTML;
        var rows = [].concat(params).map(function (p) {
          var v = p.value == null ? "-" : p.value;
          return p.marker + esc(p.seriesName) + ": " + esc(v);
        });
        return esc(params.length ? params[0].axisValueLabel : "") + "<br>" + rows.join("<br>");
      }
    },
    legend: { top: 0 },
    grid: { left: 48, right: 48, bottom: 64, top: 40 },
    xAxis: { type: "category", data: d.labels, axisLabel: { interval: 0, rotate: d.labels.length > 6 ? 30 : 0 } },
    yAxis: [{ type: "value", minInterval: 1 }, { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } }],
    series: series
  });
  el.dataset.ready = "1";
  window.addEventListener("resize", function () { chart.resize(); });
})();
