/**
 * Polling, for the few things no event announces (an expiry judged by a server's clock, a row
 * another process writes): `probe` every `intervalMs` until it gives a value, or a clear failure
 * at the deadline. Anything the bot or a fake can announce is awaited instead (Bot.idle, the
 * fakes' waitFor).
 */
export async function poll<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 10_000, intervalMs = 10 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
