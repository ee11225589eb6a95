/* Frontdesk widget (minimal). Embed with:
 *   <script src="https://frontdesk.example/widget.js" data-channel="pk_..." async></script>
 * It speaks the visitor websocket protocol (docs/websocket.md): hello with the
 * saved token and last seq, idempotent client ids, resume after reloads and
 * network drops with jittered backoff. Text is always rendered as text.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.channel) { return; }
  var key = script.dataset.channel;
  var base = new URL(script.src, location.href).origin;
  var storeKey = "frontdesk:" + key;
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { saved = {}; }
  var lastSeq = 0, ws = null, attempt = 0, pending = [], open = false, seen = {};

  function save() { try { localStorage.setItem(storeKey, JSON.stringify({ token: saved.token, conversation: saved.conversation })); } catch (e) {} }

  var host = document.createElement("div");
  host.setAttribute("data-frontdesk", "widget");
  var root = host.attachShadow ? host.attachShadow({ mode: "closed" }) : host;
  root.innerHTML =
    '<style>' +
    ':host{all:initial}' +
    '.b{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;background:#2f5bea;color:#fff;border:0;font:24px sans-serif;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}' +
    '.p{position:fixed;right:20px;bottom:90px;width:360px;max-width:calc(100vw - 40px);height:520px;max-height:calc(100vh - 120px);background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:none;flex-direction:column;font:14px/1.4 system-ui,sans-serif;color:#222;z-index:2147483000;overflow:hidden}' +
    '.p.o{display:flex}.h{background:#2f5bea;color:#fff;padding:12px 16px;font-weight:600}' +
    '.l{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:6px}' +
    '.m{max-width:80%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;word-wrap:break-word}' +
    '.bot,.agent{background:#f0f2f7;align-self:flex-start}.visitor{background:#2f5bea;color:#fff;align-self:flex-end}' +
    '.system{align-self:center;color:#777;font-size:12px}.q{display:flex;flex-wrap:wrap;gap:6px}' +
    '.q button{border:1px solid #2f5bea;color:#2f5bea;background:#fff;border-radius:14px;padding:4px 10px;cursor:pointer}' +
    'form{display:flex;border-top:1px solid #eee}input{flex:1;border:0;padding:12px;font:inherit;outline:none}' +
    'form button{border:0;background:none;color:#2f5bea;padding:0 14px;cursor:pointer;font-weight:600}' +
    '</style>' +
    '<button class="b" aria-label="Chat">&#128172;</button>' +
    '<div class="p" role="dialog"><div class="h">Chat</div><div class="l" aria-live="polite"></div>' +
    '<form><input maxlength="4000" placeholder="Type a message" aria-label="Message"><button>Send</button></form></div>';
  var bubble = root.querySelector(".b"), panel = root.querySelector(".p"), list = root.querySelector(".l");
  var title = root.querySelector(".h"), form = root.querySelector("form"), input = root.querySelector("input");
  bubble.addEventListener("click", function () { open = !open; panel.classList.toggle("o", open); if (open) { input.focus(); } });
  (document.body || document.documentElement).appendChild(host);

  function render(msg) {
    if (!msg || seen[msg.id]) { return; }
    seen[msg.id] = true;
    var el = document.createElement("div");
    el.className = "m " + msg.author;
    el.textContent = msg.text; // never innerHTML: text from anyone is data
    list.appendChild(el);
    var old = list.querySelector(".q");
    if (old) { old.remove(); }
    if (msg.quick_replies && msg.quick_replies.length) {
      var q = document.createElement("div");
      q.className = "q";
      msg.quick_replies.forEach(function (r) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = r.label;
        b.addEventListener("click", function () { q.remove(); sendText(r.label, r.value); });
        q.appendChild(b);
      });
      list.appendChild(q);
    }
    list.scrollTop = list.scrollHeight;
  }

  function handle(f) {
    switch (f.type) {
      case "welcome":
        if (saved.conversation && saved.conversation !== f.conversation_id) {
          // A new conversation (the old one was closed): its seq starts over.
          lastSeq = 0; seen = {}; list.textContent = "";
        }
        saved.token = f.token; saved.conversation = f.conversation_id; save();
        if (f.assistant && f.assistant.name) { title.textContent = f.assistant.name; }
        attempt = 0;
        pending.forEach(function (p) { ws.send(JSON.stringify(p)); });
        break;
      case "event":
        if (f.seq <= lastSeq) { return; }
        lastSeq = f.seq;
        if (f.message) { render(f.message); }
        break;
      case "ack":
        pending = pending.filter(function (p) { return p.client_id !== f.client_id; });
        break;
      case "resync":
        fetch(base + "/api/v1/widget/history?key=" + encodeURIComponent(key), { headers: { Authorization: "Bearer " + saved.token } })
          .then(function (r) { return r.json(); })
          .then(function (h) { (h.events || []).forEach(function (e) { if (e.seq > lastSeq) { lastSeq = e.seq; } render(e.message); }); });
        break;
      case "error":
        if (f.code === "conversation_closed") { ws.close(); } // reconnect starts a new conversation; pending messages are resent
        break;
    }
  }

  function connect() {
    ws = new WebSocket(base.replace(/^http/, "ws") + "/api/v1/widget/ws?key=" + encodeURIComponent(key));
    ws.onopen = function () {
      ws.send(JSON.stringify({ type: "hello", token: saved.token || undefined, last_seq: lastSeq,
        locale: navigator.language, page_url: location.href.slice(0, 2000), referrer: document.referrer.slice(0, 2000) }));
    };
    ws.onmessage = function (e) { try { handle(JSON.parse(e.data)); } catch (err) {} };
    ws.onclose = function (e) {
      if (e.code === 4001) { saved.token = undefined; save(); lastSeq = 0; }
      if (e.code === 1008) { return; } // wrong key or origin: retrying will not help
      attempt++;
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.5 + Math.random());
      setTimeout(connect, delay);
    };
  }

  function sendText(text, reply) {
    var frame = { type: "message", client_id: "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10), text: text };
    if (reply) { frame.quick_reply = reply; }
    pending.push(frame);
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(frame)); }
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var t = input.value.trim();
    if (!t) { return; }
    input.value = "";
    sendText(t);
  });
  setInterval(function () { if (ws && ws.readyState === 1) { ws.send('{"type":"ping"}'); } }, 25000);
  connect();
})();
