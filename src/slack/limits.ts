/**
 * Slack's documented size limits for what the bot sends, and the one way it shortens text to fit.
 *
 * Lengths are JavaScript string lengths (UTF-16 code units) of the text as sent, escapes included
 * (`&lt;` is four). That is never less than the count in code points, so text that fits here fits
 * however Slack counts its characters.
 */

export const SLACK_LIMITS = {
  /** Blocks in a message (`chat.*`, `response_url`). */
  messageBlocks: 50,
  /** Blocks in a modal or the App Home tab. */
  viewBlocks: 100,
  /** A message's top-level `text` (Slack answers `msg_too_long` above it). */
  messageText: 40_000,
  sectionText: 3000,
  sectionFields: 10,
  sectionField: 2000,
  header: 150,
  /** Any text object not limited more tightly below (context elements among them). */
  textObject: 3000,
  contextElements: 10,
  actionsElements: 25,
  inputLabel: 2000,
  inputHint: 2000,
  placeholder: 150,
  buttonText: 75,
  buttonValue: 2000,
  optionText: 75,
  optionValue: 150,
  /** Options in a static select or multi-select. */
  selectOptions: 100,
  /** Options in radio buttons or checkboxes. */
  choiceOptions: 10,
  /** A modal's title, submit and close texts. */
  modalTitle: 24,
  privateMetadata: 3000,
  /** `block_id`, `action_id`, `callback_id`. */
  id: 255,
} as const;

/** What replaces the end of a long text. */
export const CLIP_NOTE = '…(clipped)';
/** The note for short plain-text fields (titles, buttons, options), where ten characters are too many. */
export const CLIP_NOTE_SHORT = '…';

/** Made on the first cut of a long text: making one costs ~20 ms and ~2.5 MB that a start does not need. */
let graphemes: Intl.Segmenter | undefined;
/** How far back to look for the start of a character, an escape or a `<…>` token around a cut. */
const LOOK_BACK = 160;

/**
 * `text` as it is, or cut to at most `max` characters ending with `note`. The cut never splits a
 * character (surrogate pair, combining mark, emoji sequence), an escape (`&amp;`, `&lt;`, `&gt;`)
 * or a Slack token such as `<@U123>` or `<!date^…>`. The note is left out where it would not fit.
 */
export function clip(text: string, max: number, note = max >= 200 ? CLIP_NOTE : CLIP_NOTE_SHORT): string {
  if (text.length <= max) return text;
  const tail = note.length < max ? note : '';
  return text.slice(0, safeCut(text, max - tail.length)) + tail;
}

function safeCut(text: string, at: number): number {
  let cut = graphemeStart(text, at);
  const amp = text.lastIndexOf('&', cut - 1);
  if (amp >= 0 && ['&amp;', '&lt;', '&gt;'].some((e) => text.startsWith(e, amp) && amp + e.length > cut))
    cut = amp;
  const open = text.lastIndexOf('<', cut - 1);
  if (open >= cut - LOOK_BACK && open > text.lastIndexOf('>', cut - 1)) cut = Math.max(open, 0);
  return cut;
}

/** The last grapheme boundary at or before `at`. */
function graphemeStart(text: string, at: number): number {
  let from = Math.max(0, at - LOOK_BACK);
  if (isLowSurrogate(text.charCodeAt(from))) from -= 1;
  let boundary = from;
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  // Up to two code points past `at`: whether a character starts at `at` depends on what follows.
  for (const { index } of graphemes.segment(text.slice(from, at + 4))) {
    if (from + index > at) break;
    boundary = from + index;
  }
  return boundary;
}

const isLowSurrogate = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/** At most `max` blocks: when there are more, the last one kept says how many were left out. */
export function fitBlocks<B>(blocks: B[], max: number, note: (left: number) => B): B[] {
  if (blocks.length <= max) return blocks;
  return [...blocks.slice(0, max - 1), note(blocks.length - max + 1)];
}
