/**
 * The pieces every builder is made of. Each one clips what it is given to Slack's limit for that
 * place (src/slack/limits.ts), so no text from Katapult or a person can make Slack refuse a payload.
 */
import type { types } from '@slack/bolt';
import { clip, fitBlocks, SLACK_LIMITS as L } from '../limits.js';

export { clip } from '../limits.js';

export type Block = types.KnownBlock;

/** Plain text for a place that holds at most `max` characters (a label, a hint, a placeholder…). */
export const plain = (text: string, max: number): types.PlainTextElement => ({
  type: 'plain_text',
  text: clip(text, max),
  emoji: true,
});
export const md = (text: string, max: number = L.textObject): types.MrkdwnElement => ({
  type: 'mrkdwn',
  text: clip(text, max),
});
export const section = (text: string): types.SectionBlock => ({
  type: 'section',
  text: md(text, L.sectionText),
});
export const header = (text: string): types.HeaderBlock => ({ type: 'header', text: plain(text, L.header) });
export const context = (...texts: string[]): types.ContextBlock => ({
  type: 'context',
  elements: texts.slice(0, L.contextElements).map((t) => md(t)),
});
export const label = (text: string) => plain(text, L.inputLabel);
export const hint = (text: string) => plain(text, L.inputHint);
export const placeholder = (text: string) => plain(text, L.placeholder);

export function button(input: {
  text: string;
  actionId: string;
  value: string;
  style?: 'primary' | 'danger';
}): types.Button {
  return {
    type: 'button',
    text: plain(input.text, L.buttonText),
    action_id: input.actionId,
    // A value is an identifier: cut, never annotated.
    value: clip(input.value, L.buttonValue, ''),
    ...(input.style ? { style: input.style } : {}),
  };
}

export const option = (text: string, value: string): types.PlainTextOption => ({
  text: plain(text, L.optionText),
  value: clip(value, L.optionValue, ''),
});

/** At most `max` blocks; the last one kept says how many more there were. */
export const fitToCount = (blocks: Block[], max: number): Block[] =>
  fitBlocks<Block>(blocks, max, (left) => context(`…(${left} more not shown)`));

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

/** A message Slack accepts: notification text and block count within the limits. */
export const message = (text: string, blocks: Block[]): SlackMessage => ({
  text: clip(text, L.messageText),
  blocks: fitToCount(blocks, L.messageBlocks),
});

/** A modal Slack accepts: title, buttons and block count within the limits. */
export function modal(input: {
  callbackId: string;
  title: string;
  submit?: string;
  close: string;
  blocks: Block[];
  privateMetadata?: string;
}): types.ModalView {
  return {
    type: 'modal',
    callback_id: input.callbackId,
    title: plain(input.title, L.modalTitle),
    ...(input.submit ? { submit: plain(input.submit, L.modalTitle) } : {}),
    close: plain(input.close, L.modalTitle),
    ...(input.privateMetadata !== undefined ? { private_metadata: input.privateMetadata } : {}),
    blocks: fitToCount(input.blocks, L.viewBlocks),
  };
}

/** A modal that only says something: a loading note, a refusal, a result. */
export function noticeModal(callbackId: string, title: string, text: string): types.ModalView {
  return modal({ callbackId, title, close: 'Close', blocks: [section(text)] });
}

export const ADMINS_ONLY = (what: string) =>
  `:no_entry: Only workspace admins and owners can ${what}. Ask one of them to run this command.`;
