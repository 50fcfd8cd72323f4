/**
 * Text a person typed, or an API returned, made safe to show back. Bidirectional embedding,
 * override and isolate controls (U+202A–U+202E, U+2066–U+2069) are invisible and reorder what
 * follows them, so `dbp_<U+202E>1kpk` would display as something else than what was sent: each
 * is shown as `�` instead. Marks (U+200E, U+200F) and joiners stay; emoji and right-to-left
 * scripts need them and they reorder nothing on their own.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

export function visible(text: string): string {
  return text.replace(BIDI_CONTROLS, '\uFFFD');
}

/** At most `max` code points of `text` (never half a surrogate pair), with `…` when cut. */
export function quoteAtMost(text: string, max: number): string {
  const chars = [...visible(text)];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
}

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
