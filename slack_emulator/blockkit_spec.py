"""What Slack accepts in Block Kit: the keys of each block, element and view type, and the limits on them."""

from __future__ import annotations

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
# Slack truncates longer message text and refuses it with msg_too_long.
MAX_MESSAGE_TEXT = 40_000
# A message's blocks together: Slack answers msg_blocks_too_long at about 13,200 characters
# (undocumented; measured in slackapi/bolt-js#2509). Counted here as the blocks' compact JSON in
# UTF-16 units, which is more than their text, so the emulator refuses at least what Slack refuses.
MAX_MESSAGE_BLOCKS_CHARS = 13_000
# A text element of a context block (the figure; Slack's text objects hold 3,000 elsewhere).
MAX_CONTEXT_TEXT = 2_000

SELECT_KEYS = {"placeholder", "confirm", "focus_on_load"}
MULTI = {"max_selected_items"}
INPUT_KEYS = {"placeholder", "initial_value", "dispatch_action_config", "focus_on_load"}
# Keys each element may carry besides "type" (and "action_id", which every element but image has).
ELEMENT_KEYS: dict[str, set[str]] = {
    "button": {"text", "url", "value", "style", "confirm", "accessibility_label"},
    "overflow": {"options", "confirm"},
    "datepicker": {"placeholder", "initial_date", "confirm", "focus_on_load"},
    "timepicker": {"placeholder", "initial_time", "confirm", "focus_on_load", "timezone"},
    "datetimepicker": {"initial_date_time", "confirm", "focus_on_load"},
    "plain_text_input": INPUT_KEYS | {"multiline", "min_length", "max_length"},
    "number_input": INPUT_KEYS | {"is_decimal_allowed", "min_value", "max_value"},
    "email_text_input": INPUT_KEYS,
    "url_text_input": INPUT_KEYS,
    "rich_text_input": INPUT_KEYS,
    "file_input": {"filetypes", "max_files"},
    "radio_buttons": {"options", "initial_option", "confirm", "focus_on_load"},
    "checkboxes": {"options", "initial_options", "confirm", "focus_on_load"},
    "static_select": SELECT_KEYS | {"options", "option_groups", "initial_option"},
    "multi_static_select": SELECT_KEYS | MULTI | {"options", "option_groups", "initial_options"},
    "external_select": SELECT_KEYS | {"initial_option", "min_query_length"},
    "multi_external_select": SELECT_KEYS | MULTI | {"initial_options", "min_query_length"},
    "users_select": SELECT_KEYS | {"initial_user"},
    "multi_users_select": SELECT_KEYS | MULTI | {"initial_users"},
    "conversations_select": SELECT_KEYS
    | {"initial_conversation", "default_to_current_conversation", "response_url_enabled", "filter"},
    "multi_conversations_select": SELECT_KEYS
    | MULTI
    | {"initial_conversations", "default_to_current_conversation", "filter"},
    "channels_select": SELECT_KEYS | {"initial_channel", "response_url_enabled"},
    "multi_channels_select": SELECT_KEYS | MULTI | {"initial_channels"},
    "image": {"image_url", "alt_text", "slack_file"},
}
SELECTS = {t for t in ELEMENT_KEYS if t.endswith("_select")}
INTERACTIVE = SELECTS | {
    "button",
    "overflow",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "radio_buttons",
    "checkboxes",
}
ACTIONS_ELEMENTS = INTERACTIVE
ACCESSORY_ELEMENTS = (INTERACTIVE - {"datetimepicker"}) | {"image"}
INPUT_ELEMENTS = SELECTS | {
    "plain_text_input",
    "number_input",
    "email_text_input",
    "url_text_input",
    "rich_text_input",
    "file_input",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "radio_buttons",
    "checkboxes",
}
# Slack's per-element option limits.
MAX_OPTIONS = {"overflow": 5, "radio_buttons": 10, "checkboxes": 10}

BLOCK_KEYS: dict[str, set[str]] = {
    "section": {"text", "fields", "accessory", "expand"},
    "header": {"text"},
    "divider": set(),
    "context": {"elements"},
    "actions": {"elements"},
    "input": {"label", "element", "dispatch_action", "hint", "optional"},
    "image": {"image_url", "alt_text", "title", "slack_file"},
    "rich_text": {"elements"},
    "markdown": {"text"},
    "file": {"external_id", "source"},
}
RICH_TEXT_ELEMENTS = {
    "rich_text_section",
    "rich_text_list",
    "rich_text_preformatted",
    "rich_text_quote",
}

VIEW_KEYS = {
    "modal": {
        "type",
        "title",
        "blocks",
        "close",
        "submit",
        "private_metadata",
        "callback_id",
        "clear_on_close",
        "notify_on_close",
        "external_id",
        "submit_disabled",
    },
    "home": {"type", "blocks", "private_metadata", "callback_id", "external_id"},
}
