// The advisers' inbox: requests listed from the JSON API, kept current by the server-sent event stream (the
// browser reconnects; on reconnecting the lists are read again), the unseen count in the title and a short
// sound (after the first click or key, as browsers require; mute remembered). Data is only ever set as text.
(function () {
  "use strict";
  var root = document.getElementById("inbox");
  if (!root) { return; }

  var isSupervisor = root.getAttribute("data-supervisor") === "true";
  var baseTitle = document.title;
  var MUTE_KEY = "tawjih.inbox.muted";
  var COUNTED = { requested: true, message_in: true, urgent: true, transferred: true, timeout: true, ended_by_person: true, reply_failed: true };
  var CHIME = { requested: true, message_in: true, urgent: true };

  var REGISTERS = { french: "français", darija_latin: "darija (lettres latines)", darija_arabic: "darija (arabe)" };
  var CHANNELS = { socketio: "chat web", whatsapp: "WhatsApp", twilio_whatsapp: "WhatsApp (Twilio)", rest: "API REST" };
  // The action server's verdict slot (met, not_met, to_confirm); yes / maybe / no are read the same way.
  var VERDICTS = { met: "conditions remplies", yes: "conditions remplies", to_confirm: "à confirmer avec le centre", maybe: "à confirmer avec le centre", not_met: "conditions non remplies", no: "conditions non remplies" };
  var STATUSES = { queued: "en attente", assigned: "prise en charge", closed: "clôturée" };
  var OUTCOMES = { answered: "répondu", referred: "orienté vers un centre", no_reply: "pas de réponse" };
  var ANSWERS = { age: "âge", education_level: "niveau d'études", home_region: "région", conditions_declared: "autres conditions remplies" };

  var sections = {};
  Array.prototype.forEach.call(root.querySelectorAll("[data-status]"), function (section) {
    sections[section.getAttribute("data-status")] = section;
  });
  var liveStatus = document.getElementById("live-status");
  var urgentBanner = document.getElementById("urgent-banner");
  var muteButton = document.getElementById("mute");
  var closedDetails = document.getElementById("closed-requests");

  // --- what the adviser has not seen yet ---------------------------------------------------------------
  var unseen = 0;
  var seenEvents = {};
  var freshIds = {};

  function showTitle() {
    document.title = (unseen > 0 ? "(" + unseen + ") " : "") + baseTitle;
  }

  function markSeen() {
    if (unseen === 0) { return; }
    unseen = 0;
    showTitle();
  }

  // --- sound ------------------------------------------------------------------------------------------
  var audio = null;
  var interacted = false;
  var muted = readMuted();

  function readMuted() {
    try { return window.localStorage.getItem(MUTE_KEY) === "1"; } catch (e) { return false; }
  }

  function showMute() {
    if (!muteButton) { return; }
    muteButton.setAttribute("aria-pressed", muted ? "true" : "false");
    muteButton.textContent = muted ? "Son coupé" : "Son activé";
  }

  function onInteraction() {
    interacted = true;
    markSeen();
    if (!audio && (window.AudioContext || window.webkitAudioContext)) {
      try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; }
    }
    if (audio && audio.state === "suspended") { audio.resume(); }
  }

  function chime(urgent) {
    if (muted || !interacted || !audio) { return; }
    var start = audio.currentTime;
    var notes = urgent ? [880, 660, 880] : [660, 880];
    notes.forEach(function (frequency, i) {
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      var at = start + i * 0.16;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.14);
      oscillator.connect(gain);
      gain.connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.15);
    });
  }

  if (muteButton) {
    muteButton.addEventListener("click", function () {
      muted = !muted;
      try { window.localStorage.setItem(MUTE_KEY, muted ? "1" : "0"); } catch (e) { /* private mode: not remembered */ }
      showMute();
    });
  }
  showMute();
  document.addEventListener("click", onInteraction, true);
  document.addEventListener("keydown", onInteraction, true);

  // --- drawing --------------------------------------------------------------------------------------------
  var common = window.TawjihHandoff;  // handoff_common.js
  var el = common.el, named = common.named, answerValue = common.answerValue, label = common.label;

  function waited(item) {
    var seconds = item.waited_seconds;
    if (typeof seconds !== "number" && item.requested_at) {
      seconds = (Date.now() - Date.parse(item.requested_at)) / 1000;
    }
    if (typeof seconds !== "number" || isNaN(seconds)) { return "—"; }
    var minutes = Math.max(0, Math.floor(seconds / 60));
    if (minutes < 1) { return "moins d'une minute"; }
    if (minutes < 60) { return minutes + " min"; }
    var hours = Math.floor(minutes / 60);
    if (hours < 48) { return hours + " h " + String(minutes % 60).padStart(2, "0"); }
    return Math.floor(hours / 24) + " jours";
  }

  function place(item) {
    var parts = [];
    if (item.city) { parts.push(named("cities", item.city)); }
    if (item.region) { parts.push(named("regions", item.region)); }
    return parts.length ? parts.join(" · ") : "—";
  }

  function answers(item) {
    var given = item.eligibility || (item.summary && item.summary.eligibility) || {};
    var names = Object.keys(given).filter(function (k) { return given[k] !== null && given[k] !== undefined && given[k] !== ""; });
    if (!names.length) { return "—"; }
    return names.map(function (k) { return (ANSWERS[k] || k) + " : " + answerValue(k, given[k]); }).join(" · ");
  }

  function adviserName(item) {
    var a = item.adviser;
    if (!a) { return "—"; }
    return typeof a === "string" ? a : (a.username || a.name || "—");
  }

  function fact(list, term, value, className) {
    list.appendChild(el("dt", null, term));
    list.appendChild(el("dd", className || null, value));
  }

  function card(item) {
    var li = el("li", "request" + (item.urgent ? " urgent" : "") + (freshIds[item.id] ? " fresh" : ""));
    li.setAttribute("data-handoff-id", String(item.id));
    var head = el("div", "request-head");
    if (item.urgent) {
      head.appendChild(el("strong", "flag urgent", "URGENT"));
    }
    var link = el("a", "open", "Demande n° " + item.id);
    link.href = "/handoffs/" + encodeURIComponent(item.id);
    head.appendChild(link);
    head.appendChild(el("span", "flag status-" + item.status, label(STATUSES, item.status)));
    if (freshIds[item.id]) { head.appendChild(el("span", "flag new", "nouveau")); }
    if (item.unread > 0) {
      head.appendChild(el("span", "flag unread", item.unread === 1 ? "1 message non lu" : item.unread + " messages non lus"));
    }
    if (item.status === "queued" && item.position) {
      head.appendChild(el("span", "flag", item.position === 1 ? "1re dans la file" : item.position + "e dans la file"));
    }
    if (item.status === "queued" && item.bot_active) {
      head.appendChild(el("span", "flag warn", item.within_hours ? "attente dépassée : Tawjih répond en attendant" : "hors horaires : Tawjih répond en attendant"));
    }
    head.appendChild(el("span", "muted waited", "attend depuis " + waited(item)));
    li.appendChild(head);

    var facts = el("dl", "summary");
    fact(facts, "Registre", label(REGISTERS, item.register));
    fact(facts, "Formation", item.programme ? named("programmes", item.programme) : "—");
    fact(facts, "Ville / région", place(item));
    fact(facts, "Éligibilité", answers(item));
    fact(facts, "Verdict", label(VERDICTS, item.verdict), item.verdict ? "verdict " + item.verdict : null);
    fact(facts, "Canal", label(CHANNELS, item.channel));
    fact(facts, "Conseiller", adviserName(item));
    if (item.status === "closed") { fact(facts, "Issue", label(OUTCOMES, item.outcome)); }
    li.appendChild(facts);

    var last = item.last_messages || (item.summary && item.summary.last_messages) || [];
    if (last.length) {
      var quotes = el("ol", "last-messages");
      quotes.setAttribute("aria-label", "Derniers messages de la personne (masqués)");
      last.forEach(function (m) {
        var q = el("li", null, typeof m === "string" ? m : m.text);
        q.setAttribute("dir", "auto");
        quotes.appendChild(q);
      });
      li.appendChild(quotes);
    }
    return li;
  }

  function byUrgency(a, b) {
    if (!!a.urgent !== !!b.urgent) { return a.urgent ? -1 : 1; }
    return 0;
  }

  function draw(status, items) {
    var section = sections[status];
    if (!section) { return; }
    var list = section.querySelector("ol.requests");
    var empty = section.querySelector(".empty");
    var count = section.querySelector(".count");
    var sorted = items.slice().sort(byUrgency);
    var nodes = sorted.map(card);
    list.replaceChildren.apply(list, nodes);
    if (empty) { empty.hidden = sorted.length > 0; }
    if (count) { count.textContent = "(" + sorted.length + ")"; }
  }

  var urgentShown = "";
  function showUrgent(all) {
    if (!urgentBanner) { return; }
    var urgent = all.filter(function (i) { return i.urgent && i.status !== "closed"; });
    if (!isSupervisor || !urgent.length) {
      urgentBanner.hidden = true;
      urgentShown = "";
      return;
    }
    // Redrawn only when it changes: an alert is read out each time it is drawn.
    var signature = urgent.map(function (i) { return i.id + ":" + i.status + ":" + adviserName(i); }).join(",");
    if (signature === urgentShown) { return; }
    urgentShown = signature;
    var message = urgent.length === 1 ? "1 demande urgente : " : urgent.length + " demandes urgentes : ";
    urgentBanner.replaceChildren(el("strong", null, "Alerte — "), document.createTextNode(message));
    urgent.forEach(function (item, i) {
      var link = el("a", null, "n° " + item.id);
      link.href = "/handoffs/" + encodeURIComponent(item.id);
      if (i > 0) { urgentBanner.appendChild(document.createTextNode(", ")); }
      urgentBanner.appendChild(link);
      var state = item.status === "queued" ? "en attente, personne ne l'a prise" : "prise en charge par " + adviserName(item);
      urgentBanner.appendChild(document.createTextNode(" (" + state + ")"));
    });
    urgentBanner.hidden = false;
  }

  // --- reading -------------------------------------------------------------------------------------------
  function fetchJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (response) {
      if (response.status === 401) {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
        throw new Error("logged out");
      }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    });
  }

  function itemsOf(body) {
    if (Array.isArray(body)) { return body; }
    return (body && (body.data || body.handoffs || body.items)) || [];
  }

  var loading = null;
  var again = false;

  function refresh() {
    if (loading) { again = true; return loading; }
    var wanted = ["queued", "assigned"];
    if (closedDetails && closedDetails.open) { wanted.push("closed"); }
    loading = Promise.all(wanted.map(function (status) {
      return fetchJson("/api/v1/handoffs?status=" + status).then(function (body) { return [status, itemsOf(body)]; });
    })).then(function (results) {
      var all = [];
      results.forEach(function (r) { draw(r[0], r[1]); all = all.concat(r[1]); });
      showUrgent(all);
      root.setAttribute("aria-busy", "false");
      root.setAttribute("data-loaded", "true");
      setProblem(null);
    }).catch(function (error) {
      if (error.message !== "logged out") { setProblem("La liste n'a pas pu être lue (" + error.message + ") ; nouvel essai à la prochaine nouvelle."); }
    }).then(function () {
      loading = null;
      if (again) { again = false; refresh(); }
    });
    return loading;
  }

  var problem = document.getElementById("inbox-problem");
  function setProblem(text) {
    if (!problem) { return; }
    problem.hidden = !text;
    problem.textContent = text || "";
  }

  if (closedDetails) { closedDetails.addEventListener("toggle", function () { if (closedDetails.open) { refresh(); } }); }

  // --- live ----------------------------------------------------------------------------------------------
  var source = null;
  var retryMs = 1000;
  var everOpened = false;
  var refreshTimer = null;

  function setLive(text, ok) {
    if (!liveStatus) { return; }
    liveStatus.textContent = text;
    liveStatus.className = "live-status " + (ok ? "ok" : "down");
  }

  function soon() {
    if (refreshTimer) { return; }
    refreshTimer = window.setTimeout(function () { refreshTimer = null; refresh(); }, 100);
  }

  function onEvent(message) {
    var entry;
    try { entry = JSON.parse(message.data); } catch (e) { return; }
    if (!entry || typeof entry !== "object") { return; }
    if (entry.id !== undefined && seenEvents[entry.id]) { return; }
    if (entry.id !== undefined) { seenEvents[entry.id] = true; }
    if (COUNTED[entry.kind]) {
      unseen += 1;
      announce(entry);
      if (entry.handoff_id !== undefined) { freshIds[entry.handoff_id] = true; }
      showTitle();
    }
    if (CHIME[entry.kind]) { chime(entry.kind === "urgent"); }
    soon();
  }

  // Told to screen readers once per event, instead of reading the redrawn lists.
  var announcer = document.getElementById("inbox-announce");
  var SAID = {
    requested: "Nouvelle demande", message_in: "Nouveau message", urgent: "Demande urgente", transferred: "Demande transférée",
    timeout: "Attente dépassée", ended_by_person: "La personne a mis fin à l'échange", reply_failed: "Message non remis"
  };
  function announce(entry) {
    if (!announcer) { return; }
    announcer.textContent = (SAID[entry.kind] || "Nouveauté") + (entry.handoff_id ? " (demande n° " + entry.handoff_id + ")" : "") + ".";
  }

  function connect() {
    if (!window.EventSource) {
      setLive("Ce navigateur ne reçoit pas les nouvelles en direct : recharge la page pour voir les nouvelles demandes.", false);
      return;
    }
    source = new EventSource("/api/v1/handoffs/stream");
    source.onopen = function () {
      setLive("En direct : les nouvelles demandes s'affichent seules.", true);
      retryMs = 1000;
      // Anything that happened while disconnected is in the lists, not in the stream.
      if (everOpened) { refresh(); }
      everOpened = true;
    };
    source.onmessage = onEvent;
    source.addEventListener("logout", function () {
      source.close();
      window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
    });
    source.onerror = function () {
      setLive("Connexion perdue : reconnexion…", false);
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (an HTTP error): try again ourselves, more slowly each time.
        source.close();
        window.setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      }
    };
  }

  root.addEventListener("click", function (event) {
    var target = event.target;
    var item = target && target.closest ? target.closest("li.request") : null;
    if (item) { delete freshIds[item.getAttribute("data-handoff-id")]; }
  });
  window.addEventListener("focus", markSeen);
  // Waiting times move on even when nothing happens.
  window.setInterval(refresh, 60000);

  // A first reading, then live: each event re-reads the lists.
  refresh().then(connect);
})();
