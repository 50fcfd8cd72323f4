/** Katapult's text as stored in a record: clipped to a bound, with the builders' marker, never mid-character or mid-escape. */
import { CLIPPED_MARKER, clipStored, STORED_FIELD_MAX } from '../../src/messages/stored.js';

test('text within the bound is kept whole; longer text is cut to the bound and marked', () => {
  expect(clipStored('short')).toBe('short');
  const exact = 'x'.repeat(STORED_FIELD_MAX);
  expect(clipStored(exact)).toBe(exact);
  const clipped = clipStored('y'.repeat(60_000));
  expect(clipped).toHaveLength(STORED_FIELD_MAX);
  expect(clipped.endsWith(CLIPPED_MARKER)).toBe(true);
});

test('a cut never splits an emoji, a mrkdwn escape or a Slack token', () => {
  for (let shift = 0; shift < 12; shift++) {
    const text = `${'a'.repeat(2_000 - 30 + shift)}🧯 &amp; <!date^1|x> &lt;b&gt; ${'z'.repeat(100)}`;
    const kept = clipStored(text).slice(0, -CLIPPED_MARKER.length);
    expect(text.startsWith(kept)).toBe(true);
    expect(kept).not.toMatch(/[\uD800-\uDBFF]$/);
    expect(kept).not.toMatch(/&(a|am|amp|l|lt|g|gt)?$/);
    expect(kept).not.toMatch(/<[^>]*$/);
  }
});
