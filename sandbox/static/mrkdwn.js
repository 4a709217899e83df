// Slack mrkdwn to HTML: *bold*, _italic_, ~strike~, `code`, ```pre```, > quotes, <links|label>, <@U…>, <#C…>, :emoji:.
"use strict";

const EMOJI = {
  white_check_mark: "✅", heavy_check_mark: "✔️", warning: "⚠️", eyes: "👀", new: "🆕", stopwatch: "⏱️",
  rotating_light: "🚨", arrows_counterclockwise: "🔄", chart_with_upwards_trend: "📈",
  chart_with_downwards_trend: "📉", bar_chart: "📊", tada: "🎉", memo: "📝", bust_in_silhouette: "👤",
  busts_in_silhouette: "👥", small_blue_diamond: "🔹", small_orange_diamond: "🔸", red_circle: "🔴",
  large_orange_circle: "🟠", large_yellow_circle: "🟡", large_green_circle: "🟢", white_circle: "⚪",
  large_blue_circle: "🔵", x: "❌", information_source: "ℹ️", zzz: "💤", sunrise: "🌅", star: "⭐",
  mag: "🔍", bell: "🔔", calendar: "📅", clipboard: "📋", hourglass: "⌛", hourglass_flowing_sand: "⏳",
  thumbsup: "👍", "+1": "👍", thumbsdown: "👎", wave: "👋", fire: "🔥", rocket: "🚀", bulb: "💡",
  lock: "🔒", link: "🔗", pushpin: "📌", speech_balloon: "💬", email: "📧", phone: "📞", sparkles: "✨",
  heavy_plus_sign: "➕", arrow_right: "➡️", arrow_up: "⬆️", arrow_down: "⬇️", no_entry: "⛔", robot_face: "🤖",
};

function escapeHtml(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

// Slack escapes &, < and > in message text; what the person sees is the plain character.
function decodeEntities(text) {
  return String(text).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function userName(id, ctx) {
  if (id === ctx.botUserId) return "Loopbot";
  return (ctx.displayNames && ctx.displayNames[id]) || id;
}

function channelName(id, ctx) {
  const found = (ctx.channels || []).find((c) => c.id === id);
  return found ? found.name : id;
}

// One <…> control sequence: a mention, a channel, a date, a special mention or a link.
function controlHtml(inner, ctx) {
  const [target, label] = splitOnce(inner, "|");
  if (target.startsWith("@")) {
    return `<span class="mention">@${escapeHtml(userName(target.slice(1), ctx))}</span>`;
  }
  if (target.startsWith("#")) {
    return `<span class="mention">#${escapeHtml(label || channelName(target.slice(1), ctx))}</span>`;
  }
  if (target.startsWith("!date^")) {
    const stamp = Number(target.split("^")[1]);
    const text = Number.isFinite(stamp) ? new Date(stamp * 1000).toLocaleString() : decodeEntities(label || "");
    return escapeHtml(text);
  }
  if (target.startsWith("!subteam^")) return `<span class="mention">${escapeHtml(label || "@group")}</span>`;
  if (target.startsWith("!")) return `<span class="mention">@${escapeHtml(target.slice(1))}</span>`;
  const url = decodeEntities(target);
  if (!/^(https?:|mailto:)/i.test(url)) return escapeHtml(decodeEntities(label || target));
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener">${escapeHtml(decodeEntities(label || url))}</a>`;
}

function splitOnce(text, sep) {
  const at = text.indexOf(sep);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
}

// Bold, italic, strike and emoji on text that is already HTML-escaped and free of code and links.
function styleHtml(html) {
  return html
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?!\w)/g, "$1<b>$2</b>")
    .replace(/(^|[^\w])_(?=\S)([^_\n]*?\S)_(?!\w)/g, "$1<i>$2</i>")
    .replace(/(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?!\w)/g, "$1<s>$2</s>")
    .replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all);
}

// Inline mrkdwn of one paragraph: code spans and <…> sequences are set aside so styling cannot reach into them.
function inlineHtml(text, ctx) {
  const kept = [];
  const keep = (html) => `\u0000${kept.push(html) - 1}\u0000`;
  let rest = text.replace(/`([^`\n]+)`/g, (_, code) => keep(`<code>${escapeHtml(decodeEntities(code))}</code>`));
  rest = rest.replace(/<([^<>\n]+)>/g, (_, inner) => keep(controlHtml(inner, ctx)));
  const html = styleHtml(escapeHtml(decodeEntities(rest)));
  return html.replace(/\u0000(\d+)\u0000/g, (_, i) => kept[Number(i)]);
}

// Lines starting with > (or Slack's escaped &gt;) become one blockquote; other lines join with <br>.
function linesHtml(text, ctx) {
  const out = [];
  let quote = [];
  const flush = () => {
    if (quote.length) out.push(`<blockquote>${quote.join("<br>")}</blockquote>`);
    quote = [];
  };
  for (const line of text.split("\n")) {
    const m = line.match(/^(?:>|&gt;) ?(.*)$/);
    if (m) {
      quote.push(inlineHtml(m[1], ctx));
    } else {
      flush();
      out.push(inlineHtml(line, ctx) + "<br>");
    }
  }
  flush();
  return out.join("").replace(/<br>$/, "");
}

function mrkdwn(text, ctx) {
  const parts = String(text || "").split(/```([\s\S]*?)```/);
  return parts.map((part, i) => (i % 2
    ? `<pre>${escapeHtml(decodeEntities(part.replace(/^\n/, "")))}</pre>`
    : linesHtml(part, ctx))).join("");
}

// A text object: mrkdwn goes through the converter, plain_text is escaped (with :emoji: when asked).
function textHtml(obj, ctx) {
  if (!obj) return "";
  if (typeof obj === "string") return mrkdwn(obj, ctx);
  if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
  const plain = escapeHtml(obj.text || "");
  return obj.emoji === false ? plain : plain.replace(/:([a-z0-9_+-]+):/g, (all, name) => EMOJI[name] || all);
}
