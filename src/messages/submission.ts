/** What the scheduling form says, inline, when a submission is refused before anything is recorded. */
import type { Reservation } from '../scheduling/daily-limit.js';
import { formatLocal } from '../time/local.js';

export const STORE_DOWN_INLINE =
  'The bot could not record this request (its storage is not answering), so nothing was done. Try again in a moment.';

/** Why the daily limit refuses this submission, and when there is room for it, in the person's zone. */
export function dailyLimitRefusal(
  limit: number,
  refused: Extract<Reservation, { ok: false }>,
  count: number,
  zone: string | null | undefined,
): string {
  const policies = (n: number) => `${n} polic${n === 1 ? 'y' : 'ies'}`;
  if (count > limit || !Number.isFinite(refused.roomAt))
    return `One person may schedule at most ${policies(limit)} in 24 hours here, and this form has ${count}. Pick fewer.`;
  return (
    `You have scheduled ${policies(refused.used)} in the last 24 hours, and one person may schedule at most ${limit} here. ` +
    `There is room for ${count === 1 ? 'this one' : `these ${count}`} from ${formatLocal(refused.roomAt, zone)}.`
  );
}
