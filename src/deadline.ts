/**
 * `work`'s value, or `late` when it has not settled within `ms`. The timer is cleared either way,
 * so it never holds the process open; `work` itself goes on (a rejection after the deadline is the
 * caller's to handle, as before the race).
 */
export async function within<T, L>(work: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<L>((resolve) => {
        timer = setTimeout(() => resolve(late), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
