// Messages: author line, blocks or text, uploaded files, the ephemeral marker and the thread link.
"use strict";

function formatTs(ts) {
  const d = new Date(Number(ts) * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function fileEl(file, ctx) {
  const box = el("figure", "file");
  const url = `${ctx.base}/files/${encodeURIComponent(file.id)}`;
  const isImage = (file.mimetype || "").startsWith("image/") || /\.(png|jpe?g|gif|svg|webp)$/i.test(file.name || "");
  box.appendChild(el("figcaption", "file-title", escapeHtml(file.title || file.name || file.id)));
  if (isImage) {
    const link = el("a", "");
    link.href = url;
    link.target = "_blank";
    link.rel = "noopener";
    const img = imageEl(url, file.alt_txt || file.title, "upload");
    img.dataset.fileId = file.id;
    link.appendChild(img);
    box.appendChild(link);
  } else {
    const link = el("a", "file-link", escapeHtml(file.name || file.id));
    link.href = url;
    box.appendChild(link);
  }
  return box;
}

function ephemeralNote(message, ctx) {
  const note = el("div", "ephemeral-note", "👁 Only visible to you");
  const dismiss = el("button", "link-button", "Dismiss");
  dismiss.type = "button";
  dismiss.addEventListener("click", () => ctx.onDismiss(message));
  note.appendChild(dismiss);
  return note;
}

// One message; ctx: {base, botUserId, displayNames, channels, onButton, onThread, onDismiss, inThread}.
function messageEl(message, ctx) {
  const node = el("div", "message" + (message.ephemeral ? " ephemeral" : ""));
  node.dataset.ts = message.ts;
  const author = message.bot_id || message.user === ctx.botUserId ? "Loopbot" : userName(message.user, ctx);
  node.appendChild(el("div", "avatar", escapeHtml(author.slice(0, 1).toUpperCase())));
  const main = el("div", "message-main");
  const meta = el("div", "message-meta");
  meta.appendChild(el("span", "author", escapeHtml(author)));
  if (author === "Loopbot") meta.appendChild(el("span", "app-badge", "APP"));
  meta.appendChild(el("span", "time", escapeHtml(formatTs(message.ts))));
  if (message.edited) meta.appendChild(el("span", "edited", "(edited)"));
  main.appendChild(meta);
  if (message.ephemeral) main.appendChild(ephemeralNote(message, ctx));

  const body = el("div", "message-body");
  const buttonCtx = { ...ctx, onButton: (button, block, node) => ctx.onButton(message, button, node) };
  if (message.blocks && message.blocks.length) body.appendChild(renderBlocks(message.blocks, buttonCtx));
  else if (message.text) body.appendChild(el("div", "message-text", mrkdwn(message.text, ctx)));
  main.appendChild(body);
  (message.files || []).forEach((f) => main.appendChild(fileEl(f, ctx)));

  if (!ctx.inThread && message.reply_count) {
    const n = message.reply_count;
    const link = el("button", "thread-link link-button", `${n} ${n === 1 ? "reply" : "replies"}`);
    link.type = "button";
    link.dataset.threadTs = message.ts;
    link.addEventListener("click", () => ctx.onThread(message.ts));
    main.appendChild(link);
  }
  node.appendChild(main);
  return node;
}
