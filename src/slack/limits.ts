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

export { CLIP_NOTE, CLIP_NOTE_SHORT, clip } from '../text.js';

/** At most `max` blocks: when there are more, the last one kept says how many were left out. */
export function fitBlocks<B>(blocks: B[], max: number, note: (left: number) => B): B[] {
  if (blocks.length <= max) return blocks;
  return [...blocks.slice(0, max - 1), note(blocks.length - max + 1)];
}
