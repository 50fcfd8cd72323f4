/**
 * Slack's side of the size limits: what Slack refuses, checked on the payloads the bot sends. The
 * fake Slack answers with it (`invalid_blocks`, `invalid_arguments`, `msg_too_long`) and the
 * property tests check every builder against it.
 *
 * The numbers are written here again, from Slack's Block Kit reference, on purpose: this is the
 * oracle the bot's own constants (src/slack/limits.ts) are tested against, so it must not import them.
 * Lengths are string lengths as sent (UTF-16 code units, escapes included), which is never less than
 * a count in code points.
 */

export interface LimitProblem {
  /** JSON pointer into the checked payload, as Slack reports it, e.g. `/blocks/0/text/text`. */
  pointer: string;
  message: string;
}

export type SlackSurface = 'message' | 'modal' | 'home';

export interface SlackRefusal {
  error: 'invalid_blocks' | 'invalid_arguments' | 'msg_too_long' | 'no_text';
  /** Slack's `response_metadata.messages` style: `[ERROR] … [json-pointer:/…]`. */
  messages: string[];
}

const MAX = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageText: 40_000,
  textObject: 3000,
  sectionText: 3000,
  sectionFields: 10,
  sectionField: 2000,
  header: 150,
  contextElements: 10,
  actionsElements: 25,
  inputLabel: 2000,
  inputHint: 2000,
  placeholder: 150,
  buttonText: 75,
  buttonValue: 2000,
  url: 3000,
  optionText: 75,
  optionValue: 150,
  optionDescription: 75,
  selectOptions: 100,
  choiceOptions: 10,
  inputLength: 3000,
  viewText: 24,
  privateMetadata: 3000,
  id: 255,
} as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly problems: LimitProblem[] = [];

  fail(pointer: string, message: string): void {
    this.problems.push({ pointer, message });
  }

  string(value: unknown, pointer: string, max: number, required = false): void {
    if (value === undefined && !required) return;
    if (typeof value !== 'string') {
      this.fail(pointer, 'must be a string');
      return;
    }
    if (value.length > max)
      this.fail(pointer, `must be less than ${max + 1} characters (is ${value.length})`);
  }

  /** An array of at most `max` (at least `min`) items, each checked by `each` with its own pointer. */
  list(
    value: unknown,
    pointer: string,
    max: number,
    each: (item: unknown, at: string) => void,
    min = 0,
  ): void {
    if (value === undefined && min === 0) return;
    if (!Array.isArray(value)) {
      this.fail(pointer, 'must be an array');
      return;
    }
    if (value.length > max) this.fail(pointer, `must have at most ${max} items (has ${value.length})`);
    if (value.length < min) this.fail(pointer, `must have at least ${min} item(s)`);
    for (const [i, item] of value.entries()) each(item, `${pointer}/${i}`);
  }

  /** A text object: `plain_text` (or `mrkdwn` where allowed), 1 to `max` characters. */
  text(value: unknown, pointer: string, max: number, plainOnly = false, required = true): void {
    if (value === undefined && !required) return;
    if (!isObject(value)) {
      this.fail(pointer, 'must be a text object');
      return;
    }
    if (value.type !== 'plain_text' && (plainOnly || value.type !== 'mrkdwn'))
      this.fail(`${pointer}/type`, plainOnly ? 'must be plain_text' : 'must be plain_text or mrkdwn');
    this.string(value.text, `${pointer}/text`, max, true);
    if (value.text === '') this.fail(`${pointer}/text`, 'must be more than 0 characters');
  }

  option(value: unknown, pointer: string): void {
    if (!isObject(value)) {
      this.fail(pointer, 'must be an option object');
      return;
    }
    this.text(value.text, `${pointer}/text`, MAX.optionText);
    this.string(value.value, `${pointer}/value`, MAX.optionValue);
    this.text(value.description, `${pointer}/description`, MAX.optionDescription, false, false);
  }

  element(value: unknown, pointer: string): void {
    if (!isObject(value)) {
      this.fail(pointer, 'must be an element');
      return;
    }
    this.string(value.action_id, `${pointer}/action_id`, MAX.id);
    this.text(value.placeholder, `${pointer}/placeholder`, MAX.placeholder, true, false);
    const option = (o: unknown, at: string) => this.option(o, at);
    const options = (max: number) => this.list(value.options, `${pointer}/options`, max, option);
    switch (value.type) {
      case 'button':
        this.text(value.text, `${pointer}/text`, MAX.buttonText, true);
        this.string(value.value, `${pointer}/value`, MAX.buttonValue);
        this.string(value.url, `${pointer}/url`, MAX.url);
        break;
      case 'static_select':
      case 'multi_static_select':
        options(MAX.selectOptions);
        break;
      case 'radio_buttons':
      case 'checkboxes':
        options(MAX.choiceOptions);
        break;
      case 'plain_text_input':
        this.string(value.initial_value, `${pointer}/initial_value`, MAX.inputLength);
        for (const key of ['min_length', 'max_length'] as const) {
          const n = value[key];
          if (n !== undefined && (typeof n !== 'number' || n > MAX.inputLength))
            this.fail(`${pointer}/${key}`, `must be a number up to ${MAX.inputLength}`);
        }
        break;
    }
    if (value.initial_option !== undefined) this.option(value.initial_option, `${pointer}/initial_option`);
    this.list(value.initial_options, `${pointer}/initial_options`, MAX.selectOptions, option);
  }

  block(value: unknown, pointer: string): void {
    if (!isObject(value)) {
      this.fail(pointer, 'must be a block');
      return;
    }
    this.string(value.block_id, `${pointer}/block_id`, MAX.id);
    switch (value.type) {
      case 'section': {
        if (value.text === undefined && value.fields === undefined)
          this.fail(pointer, 'must define either `text` or `fields`');
        this.text(value.text, `${pointer}/text`, MAX.sectionText, false, false);
        this.list(value.fields, `${pointer}/fields`, MAX.sectionFields, (f, at) =>
          this.text(f, at, MAX.sectionField),
        );
        if (value.accessory !== undefined) this.element(value.accessory, `${pointer}/accessory`);
        break;
      }
      case 'header':
        this.text(value.text, `${pointer}/text`, MAX.header, true);
        break;
      case 'context':
        this.list(
          value.elements,
          `${pointer}/elements`,
          MAX.contextElements,
          (e, at) => {
            if (!isObject(e) || e.type !== 'image') this.text(e, at, MAX.textObject);
          },
          1,
        );
        break;
      case 'actions':
        this.list(
          value.elements,
          `${pointer}/elements`,
          MAX.actionsElements,
          (e, at) => this.element(e, at),
          1,
        );
        break;
      case 'input':
        this.text(value.label, `${pointer}/label`, MAX.inputLabel, true);
        this.text(value.hint, `${pointer}/hint`, MAX.inputHint, true, false);
        this.element(value.element, `${pointer}/element`);
        break;
      case 'divider':
        break;
      default:
        this.fail(`${pointer}/type`, `unknown block type ${JSON.stringify(value.type)}`);
    }
  }

  blocks(value: unknown, pointer: string, max: number): void {
    this.list(value, pointer, max, (b, at) => this.block(b, at));
  }
}

/** Problems with a message's blocks (`chat.*`, `response_url`); the text is checked by `checkMessage`. */
export function checkBlocks(blocks: unknown, surface: SlackSurface = 'message'): LimitProblem[] {
  const c = new Checker();
  c.blocks(blocks, '/blocks', surface === 'message' ? MAX.messageBlocks : MAX.viewBlocks);
  return c.problems;
}

/** Problems with a modal or App Home view, pointers from `/view`. */
export function checkView(view: unknown): LimitProblem[] {
  const c = new Checker();
  if (!isObject(view)) {
    c.fail('/view', 'must be an object');
    return c.problems;
  }
  if (view.type !== 'modal' && view.type !== 'home') c.fail('/view/type', 'must be modal or home');
  if (view.type === 'modal') {
    c.text(view.title, '/view/title', MAX.viewText, true);
    c.text(view.submit, '/view/submit', MAX.viewText, true, false);
    c.text(view.close, '/view/close', MAX.viewText, true, false);
  }
  c.string(view.private_metadata, '/view/private_metadata', MAX.privateMetadata);
  c.string(view.callback_id, '/view/callback_id', MAX.id);
  c.string(view.external_id, '/view/external_id', MAX.id);
  if (view.blocks === undefined) c.fail('/view/blocks', 'is required');
  c.blocks(view.blocks, '/view/blocks', MAX.viewBlocks);
  return c.problems;
}

/** Problems with a whole message payload: its `text` and its blocks. */
export function checkMessage(args: Json): LimitProblem[] {
  const c = new Checker();
  c.string(args.text, '/text', MAX.messageText);
  return [...c.problems, ...checkBlocks(args.blocks)];
}

const asMessages = (problems: LimitProblem[]) =>
  problems.map((p) => `[ERROR] ${p.message} [json-pointer:${p.pointer}]`);

const VIEW_METHODS = new Set(['views.open', 'views.update', 'views.push', 'views.publish']);
const MESSAGE_METHODS = new Set([
  'chat.postMessage',
  'chat.postEphemeral',
  'chat.update',
  'chat.scheduleMessage',
  'response_url',
]);

/** How Slack would refuse this call for its size or shape, or null when it would accept it. */
export function slackRefusal(method: string, args: Json): SlackRefusal | null {
  if (VIEW_METHODS.has(method)) {
    const problems = checkView(args.view);
    return problems.length ? { error: 'invalid_arguments', messages: asMessages(problems) } : null;
  }
  if (!MESSAGE_METHODS.has(method)) return null;
  const text = args.text;
  if (typeof text === 'string' && text.length > MAX.messageText)
    return { error: 'msg_too_long', messages: asMessages(checkMessage(args)) };
  if (args.blocks === undefined && (typeof text !== 'string' || text === '') && method !== 'response_url')
    return { error: 'no_text', messages: [] };
  const problems = checkBlocks(args.blocks);
  return problems.length ? { error: 'invalid_blocks', messages: asMessages(problems) } : null;
}
