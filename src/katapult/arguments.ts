/**
 * Checks of what a caller passes to the client, made before any request. The messages never echo
 * the value: a token must not reach an error string.
 */

/** A token goes into a header: no whitespace or control character may let it add another. */
export function assertToken(token: string): void {
  const unsafe = [...String(token)].some((ch) => ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f);
  if (typeof token !== 'string' || token === '' || unsafe) {
    throw new TypeError('token must be a non-empty string without whitespace or control characters');
  }
}

export function assertId(name: string, value: string): void {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${name} must be a non-empty string`);
  }
}

export function assertPositiveInteger(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer`);
  }
}
