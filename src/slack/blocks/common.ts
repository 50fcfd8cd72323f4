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
