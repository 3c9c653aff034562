// The handoff pages' behaviour: one conversation with a person (live messages, reply with canned replies,
// notes, delivery states and retry, take / transfer / close), the supervisors' canned-replies editor and the
// admins' regions editor on the users page. Every write carries the page's CSRF token; data is only ever
// set as text (textContent), never as HTML.
(function () {
  "use strict";

  var CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var REGISTERS = { french: "français", darija_latin: "darija (lettres latines)", darija_arabic: "darija (arabe)" };
  var REGISTER_ORDER = ["french", "darija_latin", "darija_arabic"];
  var CHANNELS = { socketio: "chat web", whatsapp: "WhatsApp", twilio_whatsapp: "WhatsApp (Twilio)", rest: "API REST" };
  // The action server's verdict slot (met, not_met, to_confirm); yes / maybe / no are read the same way.
  var VERDICTS = { met: "conditions remplies", yes: "conditions remplies", to_confirm: "à confirmer avec le centre", maybe: "à confirmer avec le centre", not_met: "conditions non remplies", no: "conditions non remplies" };
  var STATUSES = { queued: "en attente", assigned: "prise en charge", closed: "clôturée" };
  var OUTCOMES = { answered: "répondu", referred: "orienté vers un centre", no_reply: "pas de réponse de la personne", ended_by_person: "terminée par la personne" };
  var ANSWERS = { age: "âge", education_level: "niveau d'études", home_region: "région", conditions_declared: "autres conditions remplies" };
  // Why a message did not go out, in plain French (the codes come from Rasa's channels through the API).
  var REASONS = {
    no_address: "la personne n'a pas d'adresse connue sur ce canal",
    not_connected: "la personne n'est plus connectée au chat web",
    outside_window: "plus de 24 heures depuis le dernier message de la personne sur WhatsApp : seul le modèle approuvé peut être envoyé",
    no_template: "aucun modèle de message approuvé n'est configuré pour ce canal",
    platform_refused: "la plateforme de messagerie a refusé le message",
    platform_unreachable: "la plateforme de messagerie est injoignable",
    rasa_unreachable: "Tawjih (Rasa) est injoignable",
    rest_channel: "cette conversation passe par l'API REST : impossible d'y envoyer un message",
    contact_details: "un message ne doit contenir ni numéro de téléphone, ni adresse e-mail, ni compte de réseau social",
    closed: "la demande est clôturée",
    not_yours: "cette demande est prise en charge par quelqu'un d'autre",
    database: "la base de la console n'a pas pu enregistrer le message",
    not_configured: "ce canal n'est pas configuré sur le serveur de Tawjih",
    cannot_push: "ce canal ne peut pas recevoir de message envoyé par le conseiller",
    address_store: "l'adresse de la personne n'a pas pu être lue"
  };

  var common = window.TawjihHandoff;  // handoff_common.js
  var el = common.el, named = common.named, answerValue = common.answerValue, label = common.label;

  function reasonText(reason, code) {
    var text = reason ? (REASONS[reason] || String(reason)) : "raison inconnue";
    return code ? text + " (code " + code + ")" : text;
  }

  function api(method, url, body) {
    var headers = { Accept: "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (method !== "GET") { headers["X-CSRF-Token"] = CSRF; }
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (raw) {
        var data = null;
        try { data = raw ? JSON.parse(raw) : null; } catch (e) { data = null; }
        if (response.status === 401) {
          window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
        }
        return { status: response.status, ok: response.ok, data: data || {} };
      });
    }, function () {
      return { status: 0, ok: false, data: { detail: "la console est injoignable (réseau)" } };
    });
  }

  var KINDS = { template: "modèle", audio: "message vocal", voice: "message vocal", image: "image", video: "vidéo", document: "document", sticker: "sticker", location: "position" };
  var CONTACT_KINDS = { phone: "numéro de téléphone", email: "adresse e-mail", handle: "compte de réseau social", link: "lien vers un autre site" };

  // What a refusal means, in French; the API's own words (English) only when it is none of the known cases.
  function detailOf(result) {
    var d = result.data || {};
    if (d.contact_details && d.contact_details.length) {
      return "il contient des coordonnées (" + d.contact_details.map(function (k) { return CONTACT_KINDS[k] || k; }).join(", ") +
        "). Les conseillers ne font pas sortir les personnes de Tawjih ; un superviseur peut l'envoyer si c'est nécessaire";
    }
    if (d.why_not && REASONS[d.why_not]) { return REASONS[d.why_not]; }
    if (result.status === 403) { return "seul le conseiller qui a pris la demande, ou un superviseur, peut faire cela"; }
    if (result.status === 404) { return "cette demande n'existe plus, ou n'est pas dans tes régions"; }
    if (result.status === 503 && d.reason) { return reasonText(d.reason, d.code); }
    var text = d.message || d.detail;
    if (Array.isArray(text)) { text = text.map(function (p) { return p.msg || p.problem || String(p); }).join(" ; "); }
    if (!text && d.reason) { text = reasonText(d.reason, d.code); }
    return text || (result.status ? "erreur " + result.status : "la console est injoignable");
  }

  function say(node, text, kind) {
    if (!node) { return; }
    node.textContent = text || "";
    node.hidden = !text;
    node.className = "outcome " + (kind || "");
  }

  // ===== one conversation ==================================================================================
  function conversationPage(root) {
    var id = root.getAttribute("data-handoff-id");
    var me = root.getAttribute("data-user-id");
    var base = "/api/v1/handoffs/" + encodeURIComponent(id);
    var list = document.getElementById("messages");
    var facts = document.getElementById("summary");
    var statusLine = document.getElementById("handoff-status");
    var actionOutcome = document.getElementById("action-outcome");
    var replyForm = document.getElementById("reply-form");
    var replyText = document.getElementById("reply-text");
    var replyOutcome = document.getElementById("reply-outcome");
    var canned = document.getElementById("canned");
    var cannedBox = document.getElementById("canned-box");
    var cannotReply = document.getElementById("cannot-reply");
    var templatesBox = document.getElementById("templates");
    var noteForm = document.getElementById("note-form");
    var noteText = document.getElementById("note-text");
    var noteOutcome = document.getElementById("note-outcome");
    var claimButton = document.getElementById("claim");
    var transferForm = document.getElementById("transfer-form");
    var closeForm = document.getElementById("close-form");
    var liveStatus = document.getElementById("live-status");
    var before = document.getElementById("before");
    var trackerProblem = document.getElementById("tracker-problem");
    var sessionLink = document.getElementById("session-link");
    var current = null;
    var cannedReplies = null;
    var pending = {};
    var pendingCount = 0;

    function fact(term, value, className) {
      facts.appendChild(el("dt", null, term));
      facts.appendChild(el("dd", className || null, value));
    }

    function place(h) {
      var parts = [];
      if (h.city) { parts.push(named("cities", h.city)); }
      if (h.region) { parts.push(named("regions", h.region)); }
      return parts.length ? parts.join(" · ") : "—";
    }

    function waited(h) {
      var seconds = h.waited_seconds;
      if (typeof seconds !== "number" && h.requested_at) { seconds = (Date.now() - Date.parse(h.requested_at)) / 1000; }
      if (typeof seconds !== "number" || isNaN(seconds)) { return "—"; }
      var minutes = Math.max(0, Math.floor(seconds / 60));
      if (minutes < 1) { return "moins d'une minute"; }
      if (minutes < 60) { return minutes + " min"; }
      return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0");
    }

    function answers(h) {
      var given = h.eligibility || (h.summary && h.summary.eligibility) || {};
      var names = Object.keys(given).filter(function (k) { return given[k] !== null && given[k] !== undefined && given[k] !== ""; });
      return names.length ? names.map(function (k) { return (ANSWERS[k] || k) + " : " + answerValue(k, given[k]); }).join(" · ") : "—";
    }

    function adviserName(h) {
      var a = h.adviser;
      if (!a) { return "—"; }
      return typeof a === "string" ? a : (a.username || a.name || "—");
    }

    function adviserId(h) {
      var a = h.adviser;
      if (a && typeof a === "object" && a.id !== undefined) { return String(a.id); }
      return h.adviser_id !== undefined && h.adviser_id !== null ? String(h.adviser_id) : null;
    }

    function drawSummary(h) {
      facts.replaceChildren();
      fact("État", label(STATUSES, h.status), "status-" + h.status);
      fact("Urgent", h.urgent ? "oui — message de détresse, d'abus ou de danger" : "non", h.urgent ? "urgent" : null);
      fact("Registre", label(REGISTERS, h.register));
      fact("Formation", h.programme ? named("programmes", h.programme) : "—");
      fact("Ville / région", place(h));
      fact("Éligibilité", answers(h));
      fact("Verdict", label(VERDICTS, h.verdict));
      fact("Canal", label(CHANNELS, h.channel));
      fact("Attente", waited(h));
      fact("Conseiller", adviserName(h));
      if (h.status === "queued" && h.bot_active) {
        fact("En attendant", h.within_hours ? "personne n'a pris la demande à temps : Tawjih répond à la personne" : "demande faite hors horaires : Tawjih répond à la personne");
      }
      if (h.status === "closed") { fact("Issue", label(OUTCOMES, h.outcome)); }
      var text = "Demande " + label(STATUSES, h.status);
      if (h.status === "assigned") { text += " par " + adviserName(h); }
      text += h.urgent ? " — URGENT" : "";
      if (statusLine.textContent !== text) { statusLine.textContent = text; }
      statusLine.className = "handoff-status status-" + h.status + (h.urgent ? " urgent" : "");
    }

    function stateText(m) {
      if (m.state === "sending") { return "envoi…"; }
      if (m.state === "sent") { return "envoyé"; }
      if (m.state === "failed") { return "échec : " + reasonText(m.reason, m.code); }
      return "";
    }

    function messageNode(m) {
      var li = el("li", "turn " + m.direction);
      li.id = "m-" + m.id;
      var meta = el("div", "meta");
      var author = m.author && typeof m.author === "object" ? m.author.username : m.author;
      // An "out" message without an author is Tawjih's own (its notices, its answers while the person waited).
      var who = m.direction === "in" ? "Personne" : m.direction === "out" ? (author ? "Conseiller · " + author : "Tawjih (le bot)")
        : m.direction === "note" ? "Note interne — jamais envoyée" : "Tawjih";
      if (m.direction === "out" && !m.author) { li.className += " bot"; }
      if (m.direction === "note" && author) { who += " · " + author; }
      meta.appendChild(el("span", "who", who));
      if (m.kind && m.kind !== "text") { meta.appendChild(el("span", "kind", KINDS[m.kind] || m.kind)); }
      var time = el("time", null, m.at ? String(m.at).slice(11, 16) : "");
      if (m.at) { time.setAttribute("datetime", m.at); }
      meta.appendChild(time);
      li.appendChild(meta);
      var p = el("p", "text", m.kind === "template" ? "Modèle approuvé « " + m.text + " »" : m.text);
      p.setAttribute("dir", "auto");
      li.appendChild(p);
      if (m.direction === "out" && m.author) {
        var state = el("p", "delivery");
        state.setAttribute("role", "status");
        li.appendChild(state);
      }
      updateMessage(li, m);
      return li;
    }

    function updateMessage(li, m) {
      var state = li.querySelector(".delivery");
      if (!state) { return; }
      li.setAttribute("data-state", m.state || "");
      state.className = "delivery " + (m.state || "");
      state.replaceChildren(el("span", null, stateText(m)));
      if (m.state === "failed" && m.id !== undefined && String(m.id).indexOf("local-") !== 0) {
        var retry = el("button", "retry", "Réessayer");
        retry.type = "button";
        retry.addEventListener("click", function () { retryMessage(m.id, retry); });
        state.appendChild(document.createTextNode(" "));
        state.appendChild(retry);
      }
    }

    function drawBefore(messages) {
      if (!before) { return; }
      var list = before.querySelector("ol");
      list.replaceChildren.apply(list, messages.map(function (m) {
        var li = el("li", "turn in before");
        var meta = el("div", "meta");
        meta.appendChild(el("span", "who", "Personne, avant la demande"));
        if (m.kind && m.kind !== "text") { meta.appendChild(el("span", "kind", m.kind)); }
        if (m.at) { meta.appendChild(el("time", null, String(m.at).slice(11, 16))); }
        li.appendChild(meta);
        var p = el("p", "text", m.text);
        p.setAttribute("dir", "auto");
        li.appendChild(p);
        return li;
      }));
      before.hidden = messages.length === 0;
    }

    function drawMessages(messages) {
      messages.forEach(function (m) {
        var existing = document.getElementById("m-" + m.id);
        if (existing) {
          updateMessage(existing, m);
        } else {
          replacePending(m);
          list.appendChild(messageNode(m));
        }
      });
      var empty = document.getElementById("no-messages");
      if (empty) { empty.hidden = list.children.length > 0; }
    }

    // The adviser's message as the console recorded it replaces the one shown while it was being sent.
    function replacePending(m) {
      if (m.direction !== "out" || !m.author || String(m.author.id) !== me) { return; }
      Object.keys(pending).some(function (localId) {
        if (pending[localId].text !== m.text || pending[localId].kind !== m.kind) { return false; }
        pending[localId].node.remove();
        delete pending[localId];
        return true;
      });
    }

    function drawControls(h) {
      var mine = adviserId(h) !== null && adviserId(h) === me;
      var open = h.status !== "closed";
      if (claimButton) {
        claimButton.hidden = h.status !== "queued";
      }
      if (transferForm) { transferForm.hidden = !open; }
      if (closeForm) { closeForm.hidden = !open || h.status !== "assigned"; }
      if (noteForm) { noteForm.hidden = false; }

      var options = h.reply || {};
      var templates = options.templates || [];
      var canReply = !!options.can_reply;
      var whyNot = options.why_not;
      replyForm.hidden = !canReply;
      if (cannedBox) { cannedBox.hidden = !canReply; }
      var why = "";
      if (!canReply) {
        if (whyNot === "rest_channel" || h.channel === "rest") { why = "Cette conversation passe par l'API REST : impossible d'y envoyer un message."; }
        else if (whyNot === "outside_window") {
          why = "Plus de 24 heures depuis le dernier message de la personne : WhatsApp n'accepte plus de texte libre, seulement le modèle approuvé ci-dessous.";
        }
        else if (whyNot === "not_taken" || h.status === "queued") { why = "Prends d'abord la demande en charge pour répondre."; }
        else if (whyNot === "closed" || h.status === "closed") { why = "La demande est clôturée."; }
        else { why = options.why_not_text || "Impossible de répondre pour le moment."; }
      } else if (!mine) {
        why = "Cette demande est prise en charge par " + adviserName(h) + " : tu peux écrire en tant que superviseur.";
      }
      say(cannotReply, why, whyNot === "rest_channel" || h.channel === "rest" ? "notice rest" : "notice");
      templatesBox.replaceChildren();
      templatesBox.hidden = whyNot !== "outside_window" || !templates.length;
      templates.forEach(function (name) {
        var button = el("button", "template", "Envoyer le modèle approuvé « " + name + " »");
        button.type = "button";
        button.addEventListener("click", function () { send({ template: name }, name, button); });
        templatesBox.appendChild(button);
      });
      if (canned && cannedReplies === null && canReply) { loadCanned(h.register); }
    }

    var loading = null;
    var again = false;
    function refresh() {
      if (loading) { again = true; return loading; }
      loading = api("GET", base).then(function (result) {
        if (result.status === 404) {
          say(actionOutcome, "Tu ne vois plus cette demande : elle a été transférée hors de tes régions, ou la personne a fait effacer ses données.", "error");
          [replyForm, noteForm, transferForm, closeForm, claimButton, templatesBox, cannotReply].forEach(function (node) { if (node) { node.hidden = true; } });
          return;
        }
        if (!result.ok) { say(actionOutcome, "La demande n'a pas pu être lue : " + detailOf(result) + ".", "error"); return; }
        current = result.data;
        drawSummary(current);
        drawBefore((current.summary && current.summary.last_messages) || []);
        drawMessages(current.messages || []);
        drawControls(current);
        say(trackerProblem, current.tracker && current.tracker.ok === false
          ? "Le stockage des conversations est injoignable pour le moment (" + current.tracker.problem + ") : les messages d'avant la demande ne peuvent pas être lus."
          : "", "notice");
        if (sessionLink && current.session_id) {
          sessionLink.href = "/conversations/" + encodeURIComponent(current.session_id);
          sessionLink.hidden = false;
        }
        root.setAttribute("data-loaded", "true");
      }).then(function () {
        loading = null;
        if (again) { again = false; refresh(); }
      });
      return loading;
    }

    // --- replying --------------------------------------------------------------------------------------------
    function send(body, shown, button) {
      var localId = "local-" + (++pendingCount);
      var kind = body.template ? "template" : "text";
      var local = { id: localId, direction: "out", kind: kind, text: shown, state: "sending", at: null,
        author: { id: me, username: root.getAttribute("data-username") } };
      var node = messageNode(local);
      pending[localId] = { node: node, text: shown, kind: kind };
      list.appendChild(node);
      if (button) { button.disabled = true; }
      say(replyOutcome, "");
      return api("POST", base + "/messages", body).then(function (result) {
        if (button) { button.disabled = false; }
        var sent = result.data || {};
        if (sent.id !== undefined && sent.state) {
          // Recorded: sent, or failed with its reason (502); either way it is in the thread, with a retry if failed.
          node.remove();
          delete pending[localId];
          if (body.text !== undefined) { replyText.value = ""; }
          if (sent.state === "failed") {
            say(replyOutcome, "Le message n'a pas été remis : " + reasonText(sent.reason, sent.code) + ". Tu peux réessayer.", "error");
          }
          refresh();
          return;
        }
        node.remove();
        delete pending[localId];
        var prefix = result.status === 422 ? "Message refusé : " : result.status === 409 ? "Impossible d'envoyer : " : "Le message n'est pas parti : ";
        say(replyOutcome, prefix + detailOf(result) + ".", "error");
        if (result.status === 409) { refresh(); }
        replyText.focus();
      });
    }

    function retryMessage(mid, button) {
      button.disabled = true;
      button.textContent = "Nouvel essai…";
      api("POST", base + "/messages/" + encodeURIComponent(mid) + "/retry").then(function (result) {
        var again = result.data || {};
        if (again.state === "failed") {
          // Tried again and refused again (502): still failed, with the reason.
          say(replyOutcome, "Toujours pas remis : " + reasonText(again.reason, again.code) + ".", "error");
        } else if (!result.ok) {
          say(replyOutcome, "Le nouvel essai n'a pas pu être fait : " + detailOf(result) + ".", "error");
        } else { say(replyOutcome, ""); }
        refresh();
      });
    }

    replyForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = replyText.value.trim();
      if (!text) { say(replyOutcome, "Écris un message d'abord.", "error"); replyText.focus(); return; }
      send({ text: text }, text, replyForm.querySelector("button[type=submit]"));
    });

    // --- canned replies: the person's register first ----------------------------------------------------------
    function loadCanned(register) {
      cannedReplies = [];
      api("GET", "/api/v1/canned-replies").then(function (result) {
        if (!result.ok) { return; }
        var body = result.data;
        cannedReplies = Array.isArray(body) ? body : (body.data || body.replies || []);
        var order = REGISTER_ORDER.slice().sort(function (a, b) { return (a === register ? -1 : 0) - (b === register ? -1 : 0); });
        canned.replaceChildren(el("option", null, "— choisir une réponse type —"));
        canned.firstChild.value = "";
        order.forEach(function (reg) {
          var group = document.createElement("optgroup");
          group.label = label(REGISTERS, reg) + (reg === register ? " (registre de la personne)" : "");
          cannedReplies.filter(function (r) { return r.register === reg; }).forEach(function (r) {
            var option = el("option", null, r.title || r.text.slice(0, 60));
            option.value = String(r.id);
            group.appendChild(option);
          });
          if (group.children.length) { canned.appendChild(group); }
        });
      });
    }

    if (canned) {
      canned.addEventListener("change", function () {
        var chosen = (cannedReplies || []).filter(function (r) { return String(r.id) === canned.value; })[0];
        if (!chosen) { return; }
        replyText.value = chosen.text;
        canned.value = "";
        replyText.focus();
      });
    }

    // --- notes, take, transfer, close ------------------------------------------------------------------------
    noteForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = noteText.value.trim();
      if (!text) { say(noteOutcome, "Écris la note d'abord.", "error"); return; }
      var button = noteForm.querySelector("button[type=submit]");
      button.disabled = true;
      api("POST", base + "/notes", { text: text }).then(function (result) {
        button.disabled = false;
        if (!result.ok) { say(noteOutcome, "La note n'a pas été enregistrée : " + detailOf(result) + ".", "error"); return; }
        noteText.value = "";
        say(noteOutcome, "Note enregistrée (la personne ne la voit pas).", "ok");
        refresh();
      });
    });

    if (claimButton) {
      claimButton.addEventListener("click", function () {
        claimButton.disabled = true;
        say(actionOutcome, "Prise en charge… la personne est prévenue.", "");
        api("POST", base + "/claim").then(function (result) {
          claimButton.disabled = false;
          if (result.ok && result.data && result.data.person_told === false) {
            say(actionOutcome, "Tu as pris la demande en charge, mais la personne n'a pas pu être prévenue (" +
              reasonText(result.data.not_told_reason, result.data.not_told_code) + ") : tes messages le diront.", "error");
          } else if (result.ok) {
            say(actionOutcome, "Tu as pris la demande en charge ; la personne a été prévenue.", "ok");
          } else if (result.status === 409) {
            say(actionOutcome, "Trop tard : un autre conseiller a déjà pris cette demande (ou elle est clôturée).", "error");
          } else if (result.status === 503) {
            say(actionOutcome, "La personne n'a pas pu être prévenue qu'un conseiller est là (" + detailOf(result) +
              ") : la demande reste en attente. Réessaie dans un moment.", "error");
          } else {
            say(actionOutcome, "La prise en charge a échoué : " + detailOf(result) + ". La demande reste en attente.", "error");
          }
          refresh().then(function () { if (result.ok && !replyForm.hidden) { replyText.focus(); } });
        });
      });
    }

    if (transferForm) {
      transferForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var target = transferForm.querySelector("select").value;
        if (!target) { say(actionOutcome, "Choisis un conseiller ou une région.", "error"); return; }
        var body = target.indexOf("adviser:") === 0 ? { adviser_id: Number(target.slice(8)) } : { region: target.slice(7) };
        api("POST", base + "/transfer", body).then(function (result) {
          if (!result.ok) {
            say(actionOutcome, "Le transfert a échoué : " + detailOf(result) + "." + (result.status === 503 ? " La demande reste en attente." : ""), "error");
            return;
          }
          say(actionOutcome, "Demande transférée.", "ok");
          refresh();
        });
      });
    }

    if (closeForm) {
      closeForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var chosen = closeForm.querySelector("input[name=outcome]:checked");
        if (!chosen) { say(actionOutcome, "Choisis l'issue de la conversation.", "error"); return; }
        api("POST", base + "/close", { outcome: chosen.value }).then(function (result) {
          if (result.status === 503) {
            say(actionOutcome, "La personne n'a pas pu être prévenue que Tawjih reprend la main (" + detailOf(result) +
              ") : la conversation reste ouverte. Réessaie dans un moment.", "error");
            return;
          }
          if (!result.ok) { say(actionOutcome, "La clôture a échoué : " + detailOf(result) + ".", "error"); return; }
          if (result.data && result.data.person_told === false) {
            say(actionOutcome, "Conversation clôturée ; Tawjih reprend la main, mais la personne n'a pas pu en être " +
              "prévenue (" + reasonText(result.data.not_told_reason, result.data.not_told_code) + ").", "ok");
          } else {
            say(actionOutcome, "Conversation clôturée ; Tawjih reprend la main auprès de la personne.", "ok");
          }
          refresh();
        });
      });
    }

    // --- live ----------------------------------------------------------------------------------------------
    var source = null;
    var everOpened = false;
    var retryMs = 1000;
    function connect() {
      if (!window.EventSource) { return; }
      source = new EventSource("/api/v1/handoffs/stream");
      source.onopen = function () {
        liveStatus.textContent = "En direct.";
        liveStatus.className = "live-status ok";
        retryMs = 1000;
        if (everOpened) { refresh(); }
        everOpened = true;
      };
      source.onmessage = function (message) {
        var entry;
        try { entry = JSON.parse(message.data); } catch (e) { return; }
        // An erasure names no request any more: read this one again to learn whether it is still there.
        if (entry && (String(entry.handoff_id) === String(id) || entry.kind === "erased")) {
          if (entry.kind === "erased") {
            say(actionOutcome, "La personne a fait effacer ses données : cette demande n'existe plus.", "error");
          }
          refresh();
        }
      };
      source.addEventListener("logout", function () {
        source.close();
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      });
      source.onerror = function () {
        liveStatus.textContent = "Connexion perdue : reconnexion…";
        liveStatus.className = "live-status down";
        if (source.readyState === EventSource.CLOSED) {
          source.close();
          window.setTimeout(connect, retryMs);
          retryMs = Math.min(retryMs * 2, 30000);
        }
      };
    }

    refresh().then(connect);
  }

  // ===== canned replies (supervisors) ======================================================================
  function cannedRepliesPage(root) {
    var outcome = document.getElementById("canned-outcome");
    var addForm = document.getElementById("canned-add");

    function rowFor(reply) {
      var li = el("li", "canned-reply");
      li.id = "canned-" + reply.id;
      var form = el("form", "canned-edit");
      var titleLabel = el("label", null, "Titre ");
      var title = el("input");
      title.name = "title";
      title.required = true;
      title.maxLength = 80;
      title.defaultValue = reply.title || "";
      titleLabel.appendChild(title);
      var textLabel = el("label", null, "Texte ");
      var text = el("textarea");
      text.name = "text";
      text.rows = 3;
      text.required = true;
      text.defaultValue = reply.text || "";
      text.setAttribute("dir", "auto");
      textLabel.appendChild(text);
      var save = el("button", null, "Enregistrer");
      save.type = "submit";
      var remove = el("button", "danger-link", "Supprimer");
      remove.type = "button";
      var actions = el("div", "actions");
      actions.appendChild(save);
      actions.appendChild(remove);
      form.appendChild(titleLabel);
      form.appendChild(textLabel);
      form.appendChild(actions);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        api("PUT", "/api/v1/canned-replies/" + encodeURIComponent(reply.id), { register: reply.register, title: title.value.trim(), text: text.value.trim() })
          .then(function (result) {
            say(outcome, result.ok ? "Réponse type enregistrée." : "Non enregistrée : " + detailOf(result) + ".", result.ok ? "ok" : "error");
          });
      });
      remove.addEventListener("click", function () {
        // Two steps instead of a dialog: the first click asks, the second deletes.
        if (remove.getAttribute("data-armed") !== "true") {
          remove.setAttribute("data-armed", "true");
          remove.textContent = "Confirmer la suppression";
          return;
        }
        api("DELETE", "/api/v1/canned-replies/" + encodeURIComponent(reply.id)).then(function (result) {
          if (!result.ok) { say(outcome, "Non supprimée : " + detailOf(result) + ".", "error"); return; }
          say(outcome, "Réponse type supprimée.", "ok");
          load();
        });
      });
      li.appendChild(form);
      return li;
    }

    function load() {
      api("GET", "/api/v1/canned-replies").then(function (result) {
        if (!result.ok) { say(outcome, "Les réponses types n'ont pas pu être lues : " + detailOf(result) + ".", "error"); return; }
        var replies = Array.isArray(result.data) ? result.data : (result.data.data || result.data.replies || []);
        REGISTER_ORDER.forEach(function (reg) {
          var list = root.querySelector('ol[data-register="' + reg + '"]');
          if (!list) { return; }
          var mine = replies.filter(function (r) { return r.register === reg; });
          list.replaceChildren.apply(list, mine.map(rowFor));
          if (!mine.length) { list.appendChild(el("li", "muted", "Aucune réponse type dans ce registre.")); }
        });
        root.setAttribute("data-loaded", "true");
      });
    }

    addForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {
        register: addForm.querySelector("[name=register]").value,
        title: addForm.querySelector("[name=title]").value.trim(),
        text: addForm.querySelector("[name=text]").value.trim()
      };
      api("POST", "/api/v1/canned-replies", body).then(function (result) {
        if (!result.ok) { say(outcome, "Non ajoutée : " + detailOf(result) + ".", "error"); return; }
        addForm.reset();
        say(outcome, "Réponse type ajoutée.", "ok");
        load();
      });
    });
    load();
  }

  // ===== advisers' regions (admins, users page) =============================================================
  function regionsEditor(form) {
    var outcome = form.querySelector(".outcome");
    var shown = document.getElementById("regions-of-" + form.getAttribute("data-user-id"));
    var all = form.querySelector("input[value=all]");
    function syncAll() {
      Array.prototype.forEach.call(form.querySelectorAll("input[name=region]"), function (box) {
        if (box !== all) { box.disabled = all && all.checked; }
      });
    }
    if (all) { all.addEventListener("change", syncAll); syncAll(); }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = Array.prototype.filter.call(form.querySelectorAll("input[name=region]:checked"), function (box) { return !box.disabled; })
        .map(function (box) { return box.value; });
      api("PUT", "/api/v1/users/" + encodeURIComponent(form.getAttribute("data-user-id")) + "/regions", { regions: chosen }).then(function (result) {
        if (!result.ok) { say(outcome, "Non enregistré : " + detailOf(result) + ".", "error"); return; }
        var saved = (result.data && result.data.regions) || chosen;
        if (shown) { shown.textContent = saved.length ? saved.join(", ") : "aucune"; }
        say(outcome, "Régions enregistrées.", "ok");
      });
    });
  }

  var conversation = document.getElementById("handoff");
  if (conversation) { conversationPage(conversation); }
  var cannedRoot = document.getElementById("canned-replies");
  if (cannedRoot) { cannedRepliesPage(cannedRoot); }
  Array.prototype.forEach.call(document.querySelectorAll("form.regions-editor"), regionsEditor);
})();
