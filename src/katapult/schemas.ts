/**
 * Runtime schemas for what Katapult sends back. The client never trusts a cast: every body is
 * checked here first. Shapes follow shared/katapult/FINDINGS.md, which differs from the OpenAPI
 * document in two places: errors are wrapped in `{"error":{…}}`, and polymorphs such as a policy's
 * `target` arrive as `{type, value}`.
 */
import { z } from 'zod';

const detailSchema = z.record(z.string(), z.unknown());

/** The body of one Katapult error: `code` is required, the rest is tolerated when missing. */
const errorBodySchema = z.object({
  code: z.string().min(1),
  description: z.string().nullish(),
  detail: z.unknown().optional(),
});

/** What Katapult really sends: `{"error":{"code":…,"description":…,"detail":{…}}}`. */
export const wrappedErrorEnvelopeSchema = z.object({ error: errorBodySchema });

/** What the OpenAPI document claims (and the generated clients expect): the same fields at the top level. */
export const flatErrorEnvelopeSchema = errorBodySchema;

/** Keeps `detail` only when it is a JSON object; anything else becomes `{}`. */
export function errorDetail(value: unknown): Record<string, unknown> {
  const parsed = detailSchema.safeParse(value);
  return parsed.success ? parsed.data : {};
}

export const targetTypes = ['VirtualMachine', 'Disk'] as const;
export type TargetType = (typeof targetTypes)[number];

const idHolderSchema = z.object({ id: z.string() });

/** Apia's wire form of a polymorph: `{"type":"VirtualMachine","value":{"id":"vm_…"}}`. */
const wireTargetSchema = z.object({ type: z.string(), value: z.object({ id: z.string().optional() }) });
/** The OpenAPI document's form: `{"target":{"id":"vm_…"}}`. */
const openApiTargetSchema = z.object({ target: idHolderSchema });

/**
 * Reads a policy's `target` in whichever form it came. Never fails: an unknown shape gives
 * `{type: null, id: null}`, because the target is informational and must not sink a successful call.
 */
export function normalizeTarget(value: unknown): { type: TargetType | null; id: string | null } {
  const wire = wireTargetSchema.safeParse(value);
  if (wire.success) {
    const type = targetTypes.find((t) => t === wire.data.type) ?? null;
    return { type, id: wire.data.value.id ?? null };
  }
  const wrapped = openApiTargetSchema.safeParse(value);
  if (wrapped.success) return { type: null, id: wrapped.data.target.id };
  const bare = idHolderSchema.safeParse(value);
  if (bare.success) return { type: null, id: bare.data.id };
  return { type: null, id: null };
}

/** 200 of `DELETE /disk_backup_policies/disk_backup_policy/schedule` (field spec `id,auto_move_to_trash_at,target[id]`). */
export const scheduleDeletionResponseSchema = z.object({
  disk_backup_policy: z.object({
    id: z.string().min(1),
    auto_move_to_trash_at: z.number().int().nullish(),
    target: z.unknown().optional(),
  }),
});

const organizationSummarySchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  sub_domain: z.string().nullish(),
});

/** 200 of `GET /users/current`. */
export const currentUserResponseSchema = z.object({
  user: z.object({
    id: z.string().optional(),
    first_name: z.string().nullish(),
    last_name: z.string().nullish(),
  }),
  organizations: z.array(organizationSummarySchema),
});

/** 200 of `GET /organizations`. */
export const organizationsResponseSchema = z.object({
  organizations: z.array(organizationSummarySchema),
});
