// What the inbox and the handoff pages both draw with: elements made with text only (never HTML), catalogue
// slugs shown by their names (from the page's JSON block "catalogue-names"), a person's answers and labels.
(function () {
  "use strict";
  var NAMES = { regions: {}, cities: {}, programmes: {} };
  var namesSource = document.getElementById("catalogue-names");
  if (namesSource) { try { NAMES = JSON.parse(namesSource.textContent); } catch (e) { /* slugs are shown instead */ } }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function named(kind, slug) {
    return (NAMES[kind] && NAMES[kind][slug]) || String(slug);
  }

  function answerValue(name, value) {
    if (value === true) { return "oui"; }
    if (value === false) { return "non"; }
    if (name === "education_level") { return named("levels", value); }
    if (name === "home_region") { return named("regions", value); }
    if (name === "age") { return value + " ans"; }
    return String(value);
  }

  function label(map, value) {
    if (value === null || value === undefined || value === "") { return "—"; }
    return map[value] || String(value);
  }

  window.TawjihHandoff = { el: el, named: named, answerValue: answerValue, label: label };
})();
