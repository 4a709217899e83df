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

  // Slack's user picker lists the workspace's people; the sandbox shows them as a plain select.
  users_select(element, saved, block, ctx) {
    const node = document.createElement("select");
    const chosen = (saved ? saved.selected_user : element.initial_user) || "";
    const none = el("option", "", escapeHtml(element.placeholder ? element.placeholder.text : "Choose someone…"));
    none.value = "";
    node.appendChild(none);
    const people = ctx.users || [];
    // An initial_user the list does not hold still shows, by the name the page knows for it.
    const listed = chosen && !people.some((u) => u.id === chosen) ? [{ id: chosen, name: userName(chosen, ctx) }] : [];
    people.concat(listed).forEach((u) => {
      const opt = el("option", "", escapeHtml(u.name));
      opt.value = u.id;
      node.appendChild(opt);
    });
    node.value = chosen;
    return [node, () => node.value || null];
  },
};

// Element types whose change Slack sends at once (block_actions) when their input block has dispatch_action;
// text inputs dispatch on Enter instead, which the sandbox does not do.
const DISPATCHING = new Set(["static_select", "users_select", "datepicker", "radio_buttons"]);

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

// One input block: label, the element and hint. `node.readInput()` gives [block_id, action_id, value].
function inputBlock(block, modal, ctx) {
  const node = el("div", "input-block");
  node.dataset.blockId = block.block_id;
  node.dataset.elementType = block.element.type;
  node.dataset.inputAction = block.element.action_id;
  const label = el("label", "input-label", textHtml(block.label, ctx));
  if (block.optional) label.appendChild(el("span", "optional", " (optional)"));
  node.appendChild(label);
  const render = INPUT_RENDERERS[block.element.type];
  if (render) {
    const [input, read] = render(block.element, savedEntry(modal, block), block, ctx);
    input.dataset.actionId = block.element.action_id;
    node.appendChild(input);
    node.readInput = () => [block.block_id, block.element.action_id, read()];
    if (block.dispatch_action && DISPATCHING.has(block.element.type)) {
      input.addEventListener("change", () => ctx.onDispatch(block, read(), input));
    }
  } else {
    node.appendChild(el("div", "unsupported-element", escapeHtml(`[${block.element.type}: not supported yet]`)));
  }
  if (block.hint) node.appendChild(el("div", "input-hint", textHtml(block.hint, ctx)));
  return node;
}

// The error the app (or the client) gave for an input, under it; none removes the old one.
function setError(node, error) {
  const old = node.querySelector(":scope > .error");
  if (old && old.textContent === error) return;
  if (old) old.remove();
  if (error) node.appendChild(el("div", "error", escapeHtml(error)));
}

// What every input holds now, as the page sends it: {block_id: {action_id: value}}.
function inputValues(body) {
  const out = {};
  body.querySelectorAll(":scope > .input-block").forEach((node) => {
    if (!node.readInput) return;
    const [blockId, actionId, value] = node.readInput();
    out[blockId] = { [actionId]: value };
  });
  return out;
}

// The overlay: title bar, body, Cancel/Submit. Its buttons act on the view the frame shows last (`frame.modal`).
function modalFrame(modal) {
  const frame = el("div", "modal-backdrop");
  frame.dataset.viewId = modal.id;
  const box = el("div", "modal");
  box.dataset.viewId = modal.id;
  const head = el("div", "modal-head");
  head.appendChild(el("div", "modal-title"));
  const x = el("button", "modal-x", "×");
  x.type = "button";
  x.title = "Close";
  x.addEventListener("click", () => frame.ctx.onClose(frame.modal));
  head.appendChild(x);
  const body = el("form", "modal-body");
  const submit = () => { if (frame.modal.submit) frame.ctx.onSubmit(frame.modal, inputValues(body)); };
  body.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  const foot = el("div", "modal-foot");
  foot.appendChild(modalButton("btn modal-cancel", () => frame.ctx.onClose(frame.modal)));
  foot.appendChild(modalButton("btn btn-primary modal-submit", submit));
  box.append(head, body, foot);
  frame.appendChild(box);
  return frame;
}

// Show `modal` in root. An update of the view already shown (views.update, new errors) changes only what
// changed: a block whose JSON is the same keeps its DOM node, so what is typed there, the focus and the
// buttons stay; a changed input with the same block_id, action_id and type keeps what was typed, as in Slack.
function showModal(root, modal, ctx) {
  let frame = root.firstElementChild;
  if (!frame || frame.dataset.viewId !== modal.id) {
    root.innerHTML = "";
    frame = root.appendChild(modalFrame(modal));
  }
  frame.modal = modal;
  frame.ctx = ctx;
  frame.querySelector(".modal-title").innerHTML = textHtml(modal.title, ctx);
  frame.querySelector(".modal-cancel").textContent = modal.close ? modal.close.text : "Cancel";
  const submit = frame.querySelector(".modal-submit");
  submit.textContent = modal.submit ? modal.submit.text : "";
  submit.hidden = !modal.submit;

  const body = frame.querySelector(".modal-body");
  const typed = formFields(body);
  const old = new Map(Array.from(body.children).map((node) => [node.blockKey, node]));
  // A pick that dispatches goes to the app with everything typed so far, as Slack's view.state.
  const inputCtx = {
    ...ctx, onDispatch: (block, value, node) => frame.ctx.onSelect(frame.modal, block, value, inputValues(body), node),
  };
  const fresh = new Set();
  const nodes = (modal.blocks || []).map((block) => {
    const key = JSON.stringify(block);
    const kept = old.get(key);
    if (kept) {
      old.delete(key);
      return kept;
    }
    const node = block.type === "input" ? inputBlock(block, modal, inputCtx) : renderBlocks([block], ctx).firstChild;
    node.blockKey = key;
    fresh.add(node);
    return node;
  });
  old.forEach((node) => node.remove());
  // Insert the new nodes in place: moving a kept node would take the focus from it.
  nodes.forEach((node, i) => { if (body.children[i] !== node) body.insertBefore(node, body.children[i] || null); });
  nodes.filter((node) => node.classList.contains("input-block"))
    .forEach((node) => setError(node, (modal.errors || {})[node.dataset.blockId]));
  restoreFields(body, typed, fresh);
}

// The inputs' form controls as [selector, index, value or checked]. The selector names the block, its element's
// action_id and type: an input where one of them changed is a new input, which starts afresh.
function formFields(body) {
  return Array.from(body.querySelectorAll(":scope > .input-block")).flatMap((block) => {
    const selector = `.input-block[data-block-id="${CSS.escape(block.dataset.blockId)}"]`
      + `[data-input-action="${CSS.escape(block.dataset.inputAction || "")}"]`
      + `[data-element-type="${CSS.escape(block.dataset.elementType || "")}"]`;
    return Array.from(block.querySelectorAll("input, select, textarea")).map((field, i) => [selector, i,
      field.type === "radio" || field.type === "checkbox" ? field.checked
        : field.multiple ? Array.from(field.selectedOptions).map((o) => o.value) : field.value]);
  });
}

// Put typed values back into the freshly built inputs (the kept ones still hold theirs).
function restoreFields(body, typed, fresh) {
  typed.forEach(([selector, i, value]) => {
    const block = body.querySelector(`:scope > ${selector}`);
    const field = block && fresh.has(block) && block.querySelectorAll("input, select, textarea")[i];
    if (!field) return;
    if (field.type === "radio" || field.type === "checkbox") field.checked = value;
    else if (field.multiple) Array.from(field.options).forEach((o) => { o.selected = value.includes(o.value); });
    else field.value = value;
  });
}

function modalButton(className, onClick) {
  const node = el("button", className);
  node.type = "button";
  node.addEventListener("click", onClick);
  return node;
}
