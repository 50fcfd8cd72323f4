import type { types } from '@slack/bolt';

export type Block = types.KnownBlock;

export const plain = (text: string): types.PlainTextElement => ({ type: 'plain_text', text, emoji: true });
export const md = (text: string): types.MrkdwnElement => ({ type: 'mrkdwn', text });
export const section = (text: string): types.SectionBlock => ({ type: 'section', text: md(text) });
export const context = (...texts: string[]): types.ContextBlock => ({
  type: 'context',
  elements: texts.map(md),
});

/** Slack caps a section's text at 3000 characters and plain-text fields at their own limits. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A modal that only says something: a loading note, a refusal, a result. */
export function noticeModal(callbackId: string, title: string, text: string): types.ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    title: plain(clip(title, 24)),
    close: plain('Close'),
    blocks: [section(text)],
  };
}

export const ADMINS_ONLY = (what: string) =>
  `:no_entry: Only workspace admins and owners can ${what}. Ask one of them to run this command.`;
