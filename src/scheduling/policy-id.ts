/**
 * Katapult IDs look like `<prefix>_<16 alphanumerics>`, but no disk backup policy ID has ever been
 * seen in public (shared/katapult/FINDINGS.md §3), so the check is about sane shape, not a prefix.
 */
import { quoteAtMost } from '../text.js';
export const POLICY_ID_MAX_LENGTH = 64;
const SHAPE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export type PolicyIdCheck = { ok: true; policyId: string } | { ok: false; reason: string };

export function checkPolicyId(raw: string | null | undefined): PolicyIdCheck {
  // Slack always sends a string; anything else counts as nothing typed rather than a crash.
  const policyId = typeof raw === 'string' ? raw.trim() : '';
  if (policyId === '') return { ok: false, reason: 'Enter the ID of the disk backup policy, or pick one.' };
  if (policyId.length > POLICY_ID_MAX_LENGTH) {
    return {
      ok: false,
      reason: `That is too long for a policy ID (at most ${POLICY_ID_MAX_LENGTH} characters).`,
    };
  }
  if (!SHAPE.test(policyId)) {
    return {
      ok: false,
      reason:
        'A policy ID has only letters, digits, "_" and "-" (copy it from Katapult, e.g. dbp_1kpkjQeMEI43tztr).',
    };
  }
  return { ok: true, policyId };
}

/** Policies one submission may carry (the modal's picker allows as many). */
export const MAX_POLICIES_PER_REQUEST = 20;

export type PolicyChoice = { ok: true; policyIds: string[] } | { ok: false; reason: string };

/**
 * The policies of a submission: one typed ID, or the ones picked (duplicates dropped). Typing and
 * picking at once is ambiguous for a destructive action and refused, unless both name the same one.
 */
export function choosePolicies(typed: string | null | undefined, picked: string[]): PolicyChoice {
  const text = typeof typed === 'string' ? typed.trim() : '';
  const chosen = [
    ...new Set(
      (Array.isArray(picked) ? picked : []).filter((p) => typeof p === 'string').map((p) => p.trim()),
    ),
  ].filter((p) => p !== '');
  if (text && chosen.length > 0 && !(chosen.length === 1 && chosen[0] === text)) {
    const list = chosen.length === 1 ? quoteAtMost(chosen[0] as string, 64) : `${chosen.length} policies`;
    return {
      ok: false,
      reason: `You typed ${quoteAtMost(text, 64)} but picked ${list} below. Clear one of them.`,
    };
  }
  if (text || chosen.length === 0) {
    const one = checkPolicyId(text);
    return one.ok ? { ok: true, policyIds: [one.policyId] } : one;
  }
  if (chosen.length > MAX_POLICIES_PER_REQUEST)
    return { ok: false, reason: `Pick at most ${MAX_POLICIES_PER_REQUEST} policies at once.` };
  for (const p of chosen) {
    const check = checkPolicyId(p);
    if (!check.ok) return check;
  }
  return { ok: true, policyIds: chosen };
}

/**
 * A disk backup policy ID inside free text (a message a shortcut is used on): Katapult's ID shape,
 * `<prefix>_<16 letters or digits>`, with the `dbp_` prefix the bot's examples use (Katapult has
 * not published the prefix; IDs of other objects, `vm_…`, `disk_…`, are not policies). Not part of
 * a longer word.
 */
const POLICY_ID_IN_TEXT = /(?<![A-Za-z0-9_-])dbp_[A-Za-z0-9]{16}(?![A-Za-z0-9_-])/g;

/**
 * The policy IDs named in `texts`, in order of appearance, each once, at most
 * MAX_POLICIES_PER_REQUEST; `more`: how many others were left out.
 */
export function policyIdsIn(texts: Iterable<string>): { policyIds: string[]; more: number } {
  const seen = new Set<string>();
  for (const text of texts) {
    for (const match of text.matchAll(POLICY_ID_IN_TEXT)) {
      const id = match[0];
      if (checkPolicyId(id).ok) seen.add(id);
    }
  }
  const all = [...seen];
  return {
    policyIds: all.slice(0, MAX_POLICIES_PER_REQUEST),
    more: Math.max(0, all.length - MAX_POLICIES_PER_REQUEST),
  };
}
