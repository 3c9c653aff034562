// Draws the analytics page's charts (Chart.js, vendored from npm) from the figures embedded as JSON.
(function () {
  "use strict";
  var source = document.getElementById("stats-data");
  if (!source || typeof Chart === "undefined") { return; }
  var figures = JSON.parse(source.textContent);
  var palette = ["#1f6f8b", "#e07a5f", "#3d405b", "#81b29a", "#f2cc8f", "#9c6644", "#6d597a", "#b5838d"];
  var days = figures.days;

  function stacked(id, key) {
    var names = {};
    figures.conversations_per_day.forEach(function (d) { Object.keys(d[key]).forEach(function (n) { names[n] = true; }); });
    var datasets = Object.keys(names).sort().map(function (name, i) {
      return {
        label: name,
        backgroundColor: palette[i % palette.length],
        data: figures.conversations_per_day.map(function (d) { return d[key][name] || 0; })
      };
    });
    new Chart(document.getElementById(id), {
      type: "bar",
      data: { labels: days, datasets: datasets },
      options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
    });
  }

  stacked("chart-channel", "by_channel");
  stacked("chart-register", "by_register");
  new Chart(document.getElementById("chart-fallback"), {
    type: "line",
    data: { labels: days, datasets: [{ label: "taux", borderColor: palette[1], data: figures.fallback_rate_per_day.map(function (d) { return d.rate; }) }] },
    options: { animation: false, scales: { y: { beginAtZero: true, suggestedMax: 1 } } }
  });
  new Chart(document.getElementById("chart-intents"), {
    type: "bar",
    data: {
      labels: figures.top_intents.map(function (d) { return d.intent; }),
      datasets: [{ label: "messages", backgroundColor: palette[0], data: figures.top_intents.map(function (d) { return d.count; }) }]
    },
    options: { animation: false, indexAxis: "y" }
  });
  new Chart(document.getElementById("chart-eligibility"), {
    type: "bar",
    data: {
      labels: ["commencées", "terminées"],
      datasets: [{ label: "sessions", backgroundColor: [palette[4], palette[3]], data: [figures.eligibility.started, figures.eligibility.finished] }]
    },
    options: { animation: false, scales: { y: { beginAtZero: true } } }
  });
  new Chart(document.getElementById("chart-requests"), {
    type: "line",
    data: {
      labels: days,
      datasets: [
        { label: "conseiller", borderColor: palette[2], data: figures.adviser_requests_per_day.map(function (d) { return d.count; }) },
        { label: "effacement", borderColor: palette[5], data: figures.deletion_requests_per_day.map(function (d) { return d.count; }) }
      ]
    },
    options: { animation: false, scales: { y: { beginAtZero: true } } }
  });

  var handoffs = figures.handoffs;
  if (handoffs && document.getElementById("chart-handoff-requests")) {
    new Chart(document.getElementById("chart-handoff-requests"), {
      type: "bar",
      data: {
        labels: handoffs.requests_per_day.map(function (d) { return d.day; }),
        datasets: [
          { label: "pendant les heures d'ouverture", backgroundColor: palette[0], data: handoffs.requests_per_day.map(function (d) { return d.within_hours; }) },
          { label: "hors des heures d'ouverture", backgroundColor: palette[1], data: handoffs.requests_per_day.map(function (d) { return d.outside_hours; }) }
        ]
      },
      options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
    });
    var outcomeLabels = { answered: "répondu", referred: "orienté vers un centre", no_reply: "sans réponse de la personne", ended_by_person: "terminé par la personne" };
    var known = Object.keys(outcomeLabels);
    var outcomes = known.concat(Object.keys(handoffs.outcomes).filter(function (o) { return known.indexOf(o) < 0; }).sort());
    new Chart(document.getElementById("chart-handoff-outcomes"), {
      type: "bar",
      data: {
        labels: outcomes.map(function (o) { return outcomeLabels[o] || o; }),
        datasets: [{ label: "demandes", backgroundColor: palette[3], data: outcomes.map(function (o) { return handoffs.outcomes[o] || 0; }) }]
      },
      options: { animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }
})();
