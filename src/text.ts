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
