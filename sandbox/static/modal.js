// Modals: the overlay form built from a view's blocks, its inputs' values, and errors under each field.
"use strict";

// What the person last submitted (Slack keeps it in view.state), else the element's initial value.
function savedEntry(modal, block) {
  const values = (modal.state && modal.state.values) || {};
  return (values[block.block_id] || {})[block.element.action_id] || null;
}

function optionsOf(element) {
  const own = element.options || [];
  return own.concat(...(element.option_groups || []).map((g) => g.options || []));
}

const INPUT_RENDERERS = {
  plain_text_input(element, saved) {
    const node = document.createElement(element.multiline ? "textarea" : "input");
    if (!element.multiline) node.type = "text";
    node.value = saved ? saved.value || "" : element.initial_value || "";
    if (element.placeholder) node.placeholder = element.placeholder.text;
    if (element.max_length) node.maxLength = element.max_length;
    return [node, () => node.value];
  },

  static_select(element, saved) {
    const node = document.createElement("select");
    const chosen = saved ? saved.selected_option : element.initial_option;
    const none = el("option", "", escapeHtml(element.placeholder ? element.placeholder.text : "Choose…"));
    none.value = "";
    node.appendChild(none);
    optionsOf(element).forEach((o) => {
      const opt = el("option", "", escapeHtml(o.text.text));
      opt.value = o.value;
      opt.selected = !!chosen && chosen.value === o.value;
      node.appendChild(opt);
    });
    return [node, () => node.value || null];
  },

  radio_buttons(element, saved, block) {
    return choiceList(element, "radio", block, saved ? [saved.selected_option] : [element.initial_option],
      (checked) => checked[0] || null);
  },

  checkboxes(element, saved, block) {
    return choiceList(element, "checkbox", block, saved ? saved.selected_options : element.initial_options,
      (checked) => checked);
  },

  multi_static_select(element, saved) {
    const node = INPUT_RENDERERS.static_select(element, null)[0];
    node.multiple = true;
    node.removeChild(node.firstChild);
    const chosen = ((saved ? saved.selected_options : element.initial_options) || []).map((o) => o.value);
    Array.from(node.options).forEach((o) => { o.selected = chosen.includes(o.value); });
    return [node, () => Array.from(node.selectedOptions).map((o) => o.value)];
  },

  datepicker(element, saved) {
    const node = document.createElement("input");
    node.type = "date";
    node.value = (saved ? saved.selected_date : element.initial_date) || "";
    return [node, () => node.value || null];
  },
};

function choiceList(element, kind, block, chosen, read) {
  const node = el("div", `choice-list ${kind}-list`);
  const picked = (chosen || []).filter(Boolean).map((o) => o.value);
  optionsOf(element).forEach((o) => {
    const label = el("label", "choice");
    const box = document.createElement("input");
    box.type = kind;
    box.name = `${block.block_id}-${element.action_id}`;
    box.value = o.value;
    box.checked = picked.includes(o.value);
    label.appendChild(box);
    label.appendChild(el("span", "", escapeHtml(o.text.text)));
    node.appendChild(label);
  });
  const current = () => Array.from(node.querySelectorAll("input:checked")).map((b) => b.value);
  return [node, () => read(current())];
}

// One input block: label, the element, hint, and the error the app (or the client) gave for it.
function inputBlock(block, modal, ctx, readers) {
  const node = el("div", "input-block");
  node.dataset.blockId = block.block_id;
  const label = el("label", "input-label", textHtml(block.label, ctx));
  if (block.optional) label.appendChild(el("span", "optional", " (optional)"));
  node.appendChild(label);
  const render = INPUT_RENDERERS[block.element.type];
  if (render) {
    const [input, read] = render(block.element, savedEntry(modal, block), block);
    input.dataset.actionId = block.element.action_id;
    node.appendChild(input);
    readers.push([block.block_id, block.element.action_id, read]);
  } else {
    node.appendChild(el("div", "unsupported-element", escapeHtml(`[${block.element.type}: not supported yet]`)));
  }
  if (block.hint) node.appendChild(el("div", "input-hint", textHtml(block.hint, ctx)));
  const error = (modal.errors || {})[block.block_id];
  if (error) node.appendChild(el("div", "error", escapeHtml(error)));
  return node;
}

// The overlay: title bar, blocks, Cancel/Submit. Returns the backdrop node and a reader of the inputs' values.
function renderModal(modal, ctx) {
  const backdrop = el("div", "modal-backdrop");
  const box = el("div", "modal");
  box.dataset.viewId = modal.id;
  const head = el("div", "modal-head");
  head.appendChild(el("div", "modal-title", textHtml(modal.title, ctx)));
  const x = el("button", "modal-x", "×");
  x.type = "button";
  x.title = "Close";
  x.addEventListener("click", () => ctx.onClose(modal));
  head.appendChild(x);
  box.appendChild(head);

  const body = el("form", "modal-body");
  const readers = [];
  (modal.blocks || []).forEach((block) => {
    body.appendChild(block.type === "input" ? inputBlock(block, modal, ctx, readers) : renderBlocks([block], ctx));
  });
  body.addEventListener("submit", (event) => { event.preventDefault(); if (modal.submit) submit(); });
  box.appendChild(body);

  const values = () => {
    const out = {};
    readers.forEach(([blockId, actionId, read]) => { out[blockId] = { [actionId]: read() }; });
    return out;
  };
  const submit = () => ctx.onSubmit(modal, values());
  const foot = el("div", "modal-foot");
  foot.appendChild(modalButton(modal.close ? modal.close.text : "Cancel", "btn modal-cancel", () => ctx.onClose(modal)));
  if (modal.submit) foot.appendChild(modalButton(modal.submit.text, "btn btn-primary modal-submit", submit));
  box.appendChild(foot);
  backdrop.appendChild(box);
  return backdrop;
}

function modalButton(text, className, onClick) {
  const node = el("button", className, escapeHtml(text));
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}
