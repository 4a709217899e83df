// The sandbox page: polls /api/state every second, re-renders when its version changes, and sends what people do.
"use strict";

const BASE = document.body.dataset.base || "/sandbox";
const HOME = "home";
const DM = "dm";  // the person's DM with Loopbot (each persona has their own)
const COMMAND = "/feedback";

const DEFAULTS = { user: document.body.dataset.defaultUser || "", channel: document.body.dataset.defaultChannel || "" };

const ui = {
  user: localStorage.getItem("sandbox.user") || DEFAULTS.user,
  channel: localStorage.getItem("sandbox.channel") || DEFAULTS.channel,
  thread: null,
  version: null,
  state: null,
  modalKey: null,
  hidden: new Set(),  // ephemerals the person dismissed (Slack forgets them too)
};

const $ = (id) => document.getElementById(id);

// -- talking to the server

async function post(path, body) {
  try {
    const resp = await fetch(`${BASE}/api/${path}`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) showStatus(data.error || (data.detail ? JSON.stringify(data.detail) : `HTTP ${resp.status}`));
    else if (data.problems && data.problems.length) showStatus("Slack would refuse Loopbot's answer: " + data.problems.join("; "));
    else if (data.note) showStatus(data.note);
    return { ok: resp.ok, data };
  } catch (err) {
    showStatus(`The sandbox server is unreachable (${err.message}).`);
    return { ok: false, data: {} };
  } finally {
    poll();
  }
}

async function poll() {
  const params = new URLSearchParams({ user: ui.user, channel: ui.channel });
  if (ui.thread) params.set("thread", ui.thread);
  try {
    const resp = await fetch(`${BASE}/api/state?${params}`);
    const data = await resp.json();
    if (!resp.ok) return resetSelection();
    if (data.version !== ui.version) {
      ui.version = data.version;
      ui.state = data;
      render();
    }
  } catch (err) {
    // The server restarting: the next poll tries again.
  }
}

// A stored user or channel the server no longer knows (another demo config): back to the defaults.
function resetSelection() {
  localStorage.removeItem("sandbox.user");
  localStorage.removeItem("sandbox.channel");
  if (ui.user === DEFAULTS.user && ui.channel === DEFAULTS.channel) return;
  ui.user = DEFAULTS.user;
  ui.channel = DEFAULTS.channel;
  ui.thread = null;
  ui.version = null;
}

function showStatus(text) {
  const node = $("status");
  node.textContent = text;
  node.hidden = !text;
  clearTimeout(showStatus.timer);
  showStatus.timer = setTimeout(() => { node.hidden = true; }, 8000);
}

// -- rendering

function context(extra) {
  const s = ui.state;
  return {
    base: BASE, botUserId: s.bot_user_id, displayNames: s.display_names, channels: s.channels, users: s.users,
    onThread: openThread, onDismiss: dismiss,
    onButton: (message, button, node) => clickMessage(message, button, node), ...extra,
  };
}

function render() {
  renderSwitcher();
  renderSidebar();
  const current = ui.state.channels.find((c) => c.id === ui.channel);
  $("channel-title").textContent = current ? title(current) : "";
  if (ui.channel === HOME) renderHome();
  else renderMessages();
  renderThread();
  renderModalLayer();
  const input = $("message-input");
  input.disabled = ui.channel === HOME;
  input.placeholder = ui.channel === HOME ? "App Home has no message box here: pick a channel to type /feedback"
    : `Message ${current ? (current.kind === DM ? current.name : "#" + current.name) : ""} — only ${COMMAND} commands reach Loopbot`;
}

function title(c) {
  if (c.kind === HOME) return "Loopbot · App Home";
  return c.kind === DM ? `${c.name} (DM)` : `# ${c.name}`;
}

// The DM is unread while it holds something newer than what this persona last saw there.
function seenKey() {
  return `sandbox.seen.${ui.user}`;
}

function unread(c) {
  if (c.kind !== DM || !c.latest) return false;
  if (ui.channel === DM) localStorage.setItem(seenKey(), c.latest);
  return Number(c.latest) > Number(localStorage.getItem(seenKey()) || 0);
}

function renderSwitcher() {
  const select = $("user-switcher");
  const wanted = ui.state.personas.map((p) => `${p.id}:${p.label}`).join("|");
  if (select.dataset.personas !== wanted) {
    select.innerHTML = "";
    ui.state.personas.forEach((p) => {
      const opt = el("option", "", escapeHtml(p.label));
      opt.value = p.id;
      select.appendChild(opt);
    });
    select.dataset.personas = wanted;
  }
  select.value = ui.user;
}

function renderSidebar() {
  const channels = $("channel-list");
  const apps = $("app-list");
  channels.innerHTML = "";
  apps.innerHTML = "";
  const labels = {
    [HOME]: () => "🤖 App Home",
    [DM]: (c) => `💬 ${escapeHtml(c.name)} (DM)`,
    channel: (c) => `<span class="hash">#</span> ${escapeHtml(c.name)}`,
  };
  ui.state.channels.forEach((c) => {
    const item = el("a", "channel" + (c.id === ui.channel ? " active" : "") + (unread(c) ? " unread" : ""),
      labels[c.kind](c));
    item.href = "#";
    item.dataset.channel = c.id;
    item.addEventListener("click", (event) => { event.preventDefault(); selectChannel(c.id); });
    (c.kind === "channel" ? channels : apps).appendChild(item);
  });
}

// Re-renders keep the reading position: stuck to the bottom when the person was there, else where they were.
function keepScroll(container, fill) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
  const top = container.scrollTop;
  container.innerHTML = "";
  fill(container);
  container.scrollTop = atBottom || ui.jumpToBottom ? container.scrollHeight : top;
  ui.jumpToBottom = false;
}

function renderMessages() {
  const ctx = context();
  const messages = ui.state.messages.filter((m) => !ui.hidden.has(m.ts));
  keepScroll($("messages"), (box) => {
    if (!messages.length) box.appendChild(el("div", "empty", "No messages yet. Type <code>/feedback help</code> below."));
    messages.forEach((m) => box.appendChild(messageEl(m, ctx)));
  });
}

function renderHome() {
  const home = ui.state.home;
  const ctx = context({ onButton: (button, block, node) => act(node, "home_click",
    { user: ui.user, action_id: button.action_id, value: button.value ?? null }) });
  keepScroll($("messages"), (box) => {
    const view = el("div", "home-view");
    if (!home) view.appendChild(el("div", "empty", "Loading App Home…"));
    else view.appendChild(renderBlocks(home.blocks, ctx));
    box.appendChild(view);
  });
}

function renderThread() {
  const pane = $("thread-pane");
  const thread = ui.state.thread;
  if (!ui.thread || !thread) {
    pane.hidden = true;
    pane.innerHTML = "";
    return;
  }
  pane.hidden = false;
  const ctx = context({ inThread: true });
  const head = el("div", "thread-head", "<b>Thread</b>");
  const close = el("button", "modal-x", "×");
  close.type = "button";
  close.addEventListener("click", () => openThread(null));
  head.appendChild(close);
  const list = pane.querySelector(".thread-messages") || el("div", "thread-messages");
  pane.innerHTML = "";
  pane.appendChild(head);
  pane.appendChild(list);
  keepScroll(list, (box) => {
    box.appendChild(messageEl(thread.parent, ctx));
    const n = thread.replies.length;
    box.appendChild(el("div", "reply-count", `${n} ${n === 1 ? "reply" : "replies"}`));
    thread.replies.filter((m) => !ui.hidden.has(m.ts)).forEach((m) => box.appendChild(messageEl(m, ctx)));
  });
}

// The modal changes only when the view (or its errors) changed: typing survives every poll, and an update of
// the view keeps what was typed where Slack keeps it (showModal).
function renderModalLayer() {
  const root = $("modal-root");
  const modal = ui.state.modal;
  const key = modal ? `${modal.id}:${modal.hash}:${JSON.stringify(modal.errors)}` : null;
  if (key === ui.modalKey) return;
  ui.modalKey = key;
  if (!modal) {
    root.innerHTML = "";
    return;
  }
  showModal(root, modal, context({
    onButton: (button, block, node) => act(node, "view_click",
      { user: ui.user, view_id: modal.id, action_id: button.action_id, value: button.value ?? null }),
    onSubmit: (view, values) => act(root.querySelector(".modal-submit"), "submit",
      { user: ui.user, view_id: view.id, values }),
    onSelect: (view, block, value, values, node) => act(node, "view_select", {
      user: ui.user, view_id: view.id, block_id: block.block_id, action_id: block.element.action_id, value, values,
    }),
    onClose: (view) => act(null, "close", { user: ui.user, view_id: view.id }),
  }));
}

// -- what the person does

async function act(node, path, body) {
  if (node) node.disabled = true;
  try {
    return await post(path, body);
  } finally {
    if (node) node.disabled = false;
  }
}

function clickMessage(message, button, node) {
  return act(node, "click", {
    user: ui.user, channel: ui.channel, ts: message.ts, action_id: button.action_id, value: button.value ?? null,
  });
}

function openThread(ts) {
  ui.thread = ts;
  ui.version = null;
  poll();
}

function dismiss(message) {
  ui.hidden.add(message.ts);
  ui.version = null;
  poll();
}

function selectChannel(id) {
  ui.channel = id;
  ui.thread = null;
  ui.version = null;
  ui.jumpToBottom = true;
  localStorage.setItem("sandbox.channel", id);
  // Slack tells the app each time someone opens its Home tab; Loopbot then publishes a fresh view.
  if (id === HOME) post("home", { user: ui.user });
  poll();
}

function selectUser(id) {
  ui.user = id;
  ui.thread = null;
  ui.version = null;
  ui.hidden.clear();
  localStorage.setItem("sandbox.user", id);
  if (ui.channel === HOME) post("home", { user: id });
  poll();
}

async function sendCommand() {
  const input = $("message-input");
  const hint = $("composer-hint");
  const text = input.value.trim();
  if (!text) return;
  if (text !== COMMAND && !text.startsWith(COMMAND + " ")) {
    hint.innerHTML = `Only <code>${COMMAND}</code> commands reach Loopbot here — try <code>${COMMAND} help</code>.`;
    hint.hidden = false;
    return;
  }
  hint.hidden = true;
  input.disabled = true;
  const { ok, data } = await post("command", { user: ui.user, channel: ui.channel, text });
  input.disabled = false;
  if (ok && data.status === 200) input.value = "";
  ui.jumpToBottom = true;
  input.focus();
}

function start() {
  $("user-switcher").addEventListener("change", (event) => selectUser(event.target.value));
  $("message-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      sendCommand();
    }
  });
  $("message-input").addEventListener("input", () => { $("composer-hint").hidden = true; });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && ui.state && ui.state.modal) act(null, "close", { user: ui.user, view_id: ui.state.modal.id });
  });
  if (ui.channel === HOME) post("home", { user: ui.user });
  else poll();
  setInterval(poll, 1000);
}

start();
