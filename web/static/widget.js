/* Tawjih's chat widget: socket.io to Rasa, one conversation per browser tab.
 *
 * - The conversation id and the messages live in sessionStorage: they survive a reload of
 *   the tab, and a new tab (the next person on a shared family phone) starts fresh.
 * - Each message is shown in its own direction: Arabic script right to left, French left to right.
 * - Messages typed while the connection is down wait in an outbox and go out on reconnection.
 * - While an adviser has the conversation (a bot message says "handoff": "opened" or "taken"), the
 *   adviser's messages are labelled as theirs, and no "Tawjih takes time to answer" is shown: a person
 *   answers at a person's pace. "ended", "closed" or "timeout" give the conversation back to Tawjih.
 */
(function () {
  "use strict";

  var config = window.TAWJIH_CONFIG || { socketUrl: "", socketPath: "/socket.io" };
  var SESSION_KEY = "tawjih.session";
  var HISTORY_KEY = "tawjih.history";
  var HANDOFF_KEY = "tawjih.handoff";
  var REPLY_WAIT_MS = 20000;

  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var typing = document.getElementById("chat-typing");
  var status = document.getElementById("chat-status");

  var ARABIC = /[\u0600-\u06FF\u0750-\u077F]/g;
  var LATIN = /[A-Za-z\u00C0-\u00FF]/g;

  function direction(text) {
    var arabic = (text.match(ARABIC) || []).length;
    var latin = (text.match(LATIN) || []).length;
    return arabic > latin ? "rtl" : "ltr";
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    // randomUUID needs a secure context (https or localhost); getRandomValues does not.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  var sessionId = sessionStorage.getItem(SESSION_KEY) || newId();
  sessionStorage.setItem(SESSION_KEY, sessionId);
  var history = JSON.parse(sessionStorage.getItem(HISTORY_KEY) || "[]");
  var outbox = [];
  var withAdviser = sessionStorage.getItem(HANDOFF_KEY) === "1";
  var confirmed = false;
  var replyTimer = null;

  function remember(entry) {
    history.push(entry);
    sessionStorage.setItem(HISTORY_KEY, JSON.stringify(history.slice(-200)));
  }

  function render(entry) {
    var item = document.createElement("li");
    item.className = "message " + entry.from;
    item.setAttribute("dir", direction(entry.text || ""));
    item.lang = direction(entry.text || "") === "rtl" ? "ar" : "fr";
    var label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = entry.from === "bot" ? "Tawjih : " : entry.from === "adviser" ? "Conseiller : " : "Toi : ";
    item.appendChild(label);
    if (entry.from === "adviser") {
      var who = document.createElement("span");
      who.className = "sender";
      who.setAttribute("aria-hidden", "true");
      who.textContent = "Conseiller · مستشار";
      item.appendChild(who);
    }
    item.appendChild(document.createTextNode(entry.text || ""));
    if (entry.choices && entry.choices.length) {
      var group = document.createElement("div");
      group.className = "choices";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Choix");
      entry.choices.forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = choice.title;
        button.setAttribute("dir", direction(choice.title));
        button.addEventListener("click", function () {
          group.remove();
          entry.choices = [];
          sessionStorage.setItem(HISTORY_KEY, JSON.stringify(history.slice(-200)));
          send(choice.payload, choice.title);
          input.focus();
        });
        group.appendChild(button);
      });
      item.appendChild(group);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function showTyping(on) {
    typing.hidden = !on;
    if (replyTimer) { clearTimeout(replyTimer); replyTimer = null; }
    if (on) {
      replyTimer = setTimeout(function () {
        typing.hidden = true;
        status.textContent = "Tawjih met du temps à répondre… · Tawjih عطل شوية…";
      }, REPLY_WAIT_MS);
    }
  }

  var socket = io(config.socketUrl, { path: config.socketPath, transports: ["websocket", "polling"], reconnection: true });

  function deliver(message) {
    socket.emit("user_uttered", { message: message, session_id: sessionId });
  }

  function send(message, shownAs) {
    var text = (message || "").trim();
    if (!text) { return; }
    var entry = { from: "user", text: shownAs || text };
    remember(entry);
    render(entry);
    showTyping(!withAdviser);
    if (socket.connected && confirmed) { deliver(text); } else { outbox.push(text); }
  }

  socket.on("connect", function () {
    confirmed = false;
    socket.emit("session_request", { session_id: sessionId });
  });

  socket.on("session_confirm", function () {
    confirmed = true;
    status.textContent = "";
    while (outbox.length) { deliver(outbox.shift()); }
  });

  socket.on("disconnect", function () {
    confirmed = false;
    status.textContent = "Connexion perdue, reconnexion… · تقطع الاتصال، كنعاود نتصل…";
  });

  socket.on("bot_uttered", function (message) {
    showTyping(false);
    status.textContent = "";
    var choices = (message.quick_replies || message.buttons || []).map(function (b) {
      return { title: b.title, payload: b.payload };
    });
    if (message.handoff === "opened" || message.handoff === "taken") {
      withAdviser = true;
    } else if (message.handoff === "ended" || message.handoff === "closed" || message.handoff === "timeout") {
      withAdviser = false;
    }
    sessionStorage.setItem(HANDOFF_KEY, withAdviser ? "1" : "0");
    var entry = { from: message.from === "adviser" ? "adviser" : "bot", text: message.text || "", choices: choices };
    remember(entry);
    render(entry);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
    input.value = "";
    input.focus();
  });

  history.forEach(render);
})();
