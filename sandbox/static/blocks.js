// Block Kit to DOM: one renderer per block type; buttons call ctx.onButton(button, block).
"use strict";

function el(tag, className, html) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (html !== undefined) node.innerHTML = html;
  return node;
}

function buttonEl(button, block, ctx) {
  const node = el("button", "btn" + (button.style ? ` btn-${button.style}` : ""), textHtml(button.text, ctx));
  node.type = "button";
  node.dataset.actionId = button.action_id || "";
  if (button.value !== undefined) node.dataset.value = button.value;
  if (button.url) {
    node.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
  } else if (ctx.onButton) {
    node.addEventListener("click", () => ctx.onButton(button, block, node));
  } else {
    node.disabled = true;
  }
  return node;
}

// Elements other than buttons (selects, overflow menus, date pickers in messages): shown, not usable yet.
function elementEl(element, block, ctx) {
  if (!element) return null;
  if (element.type === "button") return buttonEl(element, block, ctx);
  if (element.type === "image") return imageEl(element.image_url, element.alt_text, "accessory-image");
  const label = element.placeholder ? element.placeholder.text : element.type;
  const node = el("span", "unsupported-element", escapeHtml(`[${label}]`));
  node.title = `${element.type} is not supported by the sandbox page yet`;
  return node;
}

function imageEl(url, alt, className) {
  const img = el("img", className);
  img.src = url;
  img.alt = alt || "";
  return img;
}

const BLOCK_RENDERERS = {
  header(block, ctx) {
    return el("div", "block-header", textHtml(block.text, ctx));
  },

  section(block, ctx) {
    const node = el("div", "block-section");
    const body = el("div", "section-body");
    if (block.text) body.appendChild(el("div", "section-text", textHtml(block.text, ctx)));
    if (block.fields && block.fields.length) {
      const fields = el("div", "section-fields");
      block.fields.forEach((f) => fields.appendChild(el("div", "section-field", textHtml(f, ctx))));
      body.appendChild(fields);
    }
    node.appendChild(body);
    const accessory = elementEl(block.accessory, block, ctx);
    if (accessory) node.appendChild(el("div", "section-accessory")).appendChild(accessory);
    return node;
  },

  context(block, ctx) {
    const node = el("div", "block-context");
    (block.elements || []).forEach((e) => {
      node.appendChild(e.type === "image" ? imageEl(e.image_url, e.alt_text, "context-image")
        : el("span", "context-part", textHtml(e, ctx)));
    });
    return node;
  },

  divider() {
    return el("hr", "block-divider");
  },

  image(block, ctx) {
    const node = el("figure", "block-image");
    if (block.title) node.appendChild(el("figcaption", "", textHtml(block.title, ctx)));
    node.appendChild(imageEl(block.image_url || "", block.alt_text, ""));
    return node;
  },

  actions(block, ctx) {
    const node = el("div", "block-actions");
    (block.elements || []).forEach((e) => node.appendChild(elementEl(e, block, ctx)));
    return node;
  },

  rich_text(block, ctx) {
    // Loopbot sends no rich_text; show its plain words so nothing is silently dropped.
    const words = [];
    const walk = (items) => (items || []).forEach((i) => {
      if (i.text) words.push(i.text);
      if (i.user_id) words.push("@" + userName(i.user_id, ctx));
      walk(i.elements);
    });
    walk(block.elements);
    return el("div", "block-section", escapeHtml(words.join("")));
  },
};

function unknownBlock(block) {
  return el("div", "unsupported-block", escapeHtml(`[${block.type} block: not shown by the sandbox page]`));
}

// Message and Home blocks. `input` blocks only live in modals (modal.js renders those).
function renderBlocks(blocks, ctx) {
  const frag = document.createDocumentFragment();
  (blocks || []).forEach((block) => {
    const render = BLOCK_RENDERERS[block.type];
    const node = render ? render(block, ctx) : unknownBlock(block);
    if (block.block_id) node.dataset.blockId = block.block_id;
    frag.appendChild(node);
  });
  return frag;
}
