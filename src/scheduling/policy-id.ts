/**
 * Katapult IDs look like `<prefix>_<16 alphanumerics>`, but no disk backup policy ID has ever been
 * seen in public (shared/katapult/FINDINGS.md §3), so the check is about sane shape, not a prefix.
 */
export const POLICY_ID_MAX_LENGTH = 64;
const SHAPE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

export type PolicyIdCheck = { ok: true; policyId: string } | { ok: false; reason: string };

export function checkPolicyId(raw: string | null | undefined): PolicyIdCheck {
  const policyId = (raw ?? '').trim();
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
