// Block Kit's documented limits (docs.slack.dev/reference/block-kit: blocks, block elements,
// composition objects, views) as the Slack fake enforces them. Each violation is one line in
// Slack's own wording, "must be less than 3001 characters [json-pointer:/blocks/0/text/text]";
// chat methods answer them as invalid_blocks, views methods as invalid_arguments, both with the
// lines under `errors` (chat only) and `response_metadata.messages` ("[ERROR] ..." each).
// Types the fake does not model are passed through unchecked.

type Json = Record<string, unknown>;
export type Surface = "message" | "modal" | "home";

/** Blocks per surface: 50 in a message, 100 in a modal or on a Home tab. */
export const MAX_BLOCKS: Record<Surface, number> = { message: 50, modal: 100, home: 100 };

/** Per block type: field → most characters of its text (a text object) or string. */
const BLOCK_TEXT: Record<string, Record<string, number>> = {
  section: { text: 3000 },
  header: { text: 150 },
  input: { label: 2000, hint: 2000 },
  image: { image_url: 3000, alt_text: 2000, title: 2000 },
  video: { title: 200, description: 200, alt_text: 2000 },
};
const BLOCK_ID_MAX = 255;
const SECTION_FIELDS_MAX = 10;
const SECTION_FIELD_TEXT_MAX = 2000;
const CONTEXT_ELEMENTS_MAX = 10;
const ACTIONS_ELEMENTS_MAX = 25;

/** Per element type: field → most characters; and the most options it may list. */
const ELEMENT_TEXT: Record<string, Record<string, number>> = {
  button: { text: 75, action_id: 255, value: 2000, url: 3000, accessibility_label: 75 },
  plain_text_input: { action_id: 255, placeholder: 150 },
  static_select: { action_id: 255, placeholder: 150 },
  multi_static_select: { action_id: 255, placeholder: 150 },
  checkboxes: { action_id: 255 },
  radio_buttons: { action_id: 255 },
  overflow: { action_id: 255 },
  datepicker: { action_id: 255, placeholder: 150 },
};
const ELEMENT_OPTIONS_MAX: Record<string, number> = { static_select: 100, multi_static_select: 100, checkboxes: 10, radio_buttons: 10, overflow: 5 };
const OPTION_TEXT: Record<string, number> = { text: 75, value: 150, description: 75 };
const PLAIN_TEXT_INPUT_MAX_LENGTH = 3000;
const CONFIRM_TEXT: Record<string, number> = { title: 100, text: 300, confirm: 30, deny: 30 };

/** Views: modal title, submit and close are plain_text of at most 24 characters. */
const VIEW_TEXT: Record<Surface, Record<string, number>> = {
  message: {},
  modal: { title: 24, submit: 24, close: 24, private_metadata: 3000, callback_id: 255, external_id: 255 },
  home: { private_metadata: 3000, callback_id: 255, external_id: 255 },
};

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

class Checker {
  readonly errors: string[] = [];

  /** A text object ({type, text}) or a plain string, at most max characters and not empty. */
  text(value: unknown, max: number, at: string): void {
    const inner = isObject(value) ? value.text : value;
    const where = isObject(value) ? `${at}/text` : at;
    if (typeof inner !== "string") return;
    if (inner.length > max) this.errors.push(`must be less than ${max + 1} characters [json-pointer:${where}]`);
    if (isObject(value) && inner.length === 0) this.errors.push(`must be more than 0 characters [json-pointer:${where}]`);
  }

  fields(obj: Json, limits: Record<string, number>, at: string): void {
    for (const [field, max] of Object.entries(limits)) if (obj[field] !== undefined) this.text(obj[field], max, `${at}/${field}`);
  }

  list(value: unknown, max: number, at: string, min = 0): unknown[] {
    if (!Array.isArray(value)) return [];
    if (value.length > max) this.errors.push(`no more than ${max} items allowed [json-pointer:${at}]`);
    if (value.length < min) this.errors.push(`must provide at least ${min} items [json-pointer:${at}]`);
    return value;
  }

  element(el: unknown, at: string): void {
    if (!isObject(el) || typeof el.type !== "string") return;
    const limits = ELEMENT_TEXT[el.type];
    if (limits) this.fields(el, limits, at);
    const maxOptions = ELEMENT_OPTIONS_MAX[el.type];
    if (maxOptions !== undefined) {
      this.list(el.options, maxOptions, `${at}/options`).forEach((o, i) => isObject(o) && this.fields(o, OPTION_TEXT, `${at}/options/${i}`));
    }
    if (el.type === "plain_text_input" && typeof el.max_length === "number" && el.max_length > PLAIN_TEXT_INPUT_MAX_LENGTH) {
      this.errors.push(`must be less than or equal to ${PLAIN_TEXT_INPUT_MAX_LENGTH} [json-pointer:${at}/max_length]`);
    }
    if (isObject(el.confirm)) this.fields(el.confirm, CONFIRM_TEXT, `${at}/confirm`);
  }

  block(block: unknown, at: string): void {
    if (!isObject(block) || typeof block.type !== "string") {
      this.errors.push(`missing required field: type [json-pointer:${at}]`);
      return;
    }
    if (typeof block.block_id === "string") this.text(block.block_id, BLOCK_ID_MAX, `${at}/block_id`);
    const limits = BLOCK_TEXT[block.type];
    if (limits) this.fields(block, limits, at);
    switch (block.type) {
      case "section":
        if (block.text === undefined && block.fields === undefined) this.errors.push(`must provide either text or fields [json-pointer:${at}]`);
        this.list(block.fields, SECTION_FIELDS_MAX, `${at}/fields`).forEach((f, i) => this.text(f, SECTION_FIELD_TEXT_MAX, `${at}/fields/${i}`));
        if (block.accessory !== undefined) this.element(block.accessory, `${at}/accessory`);
        break;
      case "context":
        this.list(block.elements, CONTEXT_ELEMENTS_MAX, `${at}/elements`, 1).forEach((e, i) => isObject(e) && e.type !== "image" && this.text(e, 3000, `${at}/elements/${i}`));
        break;
      case "actions":
        this.list(block.elements, ACTIONS_ELEMENTS_MAX, `${at}/elements`, 1).forEach((e, i) => this.element(e, `${at}/elements/${i}`));
        break;
      case "input":
        if (block.element === undefined) this.errors.push(`missing required field: element [json-pointer:${at}]`);
        else this.element(block.element, `${at}/element`);
        break;
      default:
    }
  }
}

/** Block Kit violations of `blocks` on this surface, in Slack's wording (empty when valid). */
export function blockKitErrors(blocks: unknown, surface: Surface, pointer = "/blocks"): string[] {
  const check = new Checker();
  check.list(blocks, MAX_BLOCKS[surface], pointer).forEach((b, i) => check.block(b, `${pointer}/${i}`));
  return check.errors;
}

/** The same for a view (views.open/push/update/publish): its own fields, then its blocks. */
export function viewErrors(view: Json): string[] {
  const surface: Surface = view.type === "home" ? "home" : "modal";
  const check = new Checker();
  check.fields(view, VIEW_TEXT[surface], "/view");
  return [...check.errors, ...blockKitErrors(view.blocks, surface, "/view/blocks")];
}
