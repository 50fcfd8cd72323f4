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

/** Apia's wire form of a polymorph with the `target[id,name]` spec: `{"type":"Disk","value":{"id":"disk_…","name":"…"}}`. */
const wireNamedTargetSchema = z.object({
  type: z.string(),
  value: z.object({ id: z.string().optional(), name: z.string().nullish() }),
});
const namedIdHolderSchema = z.object({ id: z.string(), name: z.string().nullish() });
/** The OpenAPI document's form: `{"target":{"id":"vm_…","name":"…"}}`. */
const openApiNamedTargetSchema = z.object({ target: namedIdHolderSchema });

export interface NamedTarget {
  type: TargetType | null;
  id: string | null;
  name: string | null;
}

/**
 * Like `normalizeTarget`, for the endpoints whose field spec is `target[id,name]` (get one policy,
 * list policies): reads the wire `{type, value:{id,name}}`, the OpenAPI `{target:{id,name}}` or a
 * bare `{id,name}`. Never fails; what cannot be read is null.
 */
export function normalizeNamedTarget(value: unknown): NamedTarget {
  const wire = wireNamedTargetSchema.safeParse(value);
  if (wire.success) {
    const type = targetTypes.find((t) => t === wire.data.type) ?? null;
    return { type, id: wire.data.value.id ?? null, name: wire.data.value.name ?? null };
  }
  const wrapped = openApiNamedTargetSchema.safeParse(value);
  if (wrapped.success)
    return { type: null, id: wrapped.data.target.id, name: wrapped.data.target.name ?? null };
  const bare = namedIdHolderSchema.safeParse(value);
  if (bare.success) return { type: null, id: bare.data.id, name: bare.data.name ?? null };
  return { type: null, id: null, name: null };
}

export const scheduleIntervals = ['hourly', 'daily', 'weekly', 'monthly'] as const;

export interface PolicySchedule {
  /** `hourly`, `daily`, `weekly` or `monthly` as documented; another string is passed through. */
  interval: string | null;
  frequency: number | null;
  /** Documented only as an integer (Apia `Integer`, no description); passed through. */
  time: number | null;
  minute: number | null;
  /** Unix seconds. */
  nextInvocationAt: number | null;
}

const integerOrNull = z
  .number()
  .int()
  .nullish()
  .catch(null)
  .transform((v) => v ?? null);

const scheduleSchema = z.object({
  interval: z
    .string()
    .nullish()
    .catch(null)
    .transform((v) => v ?? null),
  frequency: integerOrNull,
  time: integerOrNull,
  minute: integerOrNull,
  next_invocation_at: integerOrNull,
});

/**
 * Reads a policy's `schedule`. Never fails: the schedule is informational, so a missing or odd one
 * gives null and an odd field gives null for that field.
 */
export function normalizeSchedule(value: unknown): PolicySchedule | null {
  const parsed = scheduleSchema.safeParse(value);
  if (!parsed.success) return null;
  const { interval, frequency, time, minute, next_invocation_at } = parsed.data;
  return { interval, frequency, time, minute, nextInvocationAt: next_invocation_at };
}

/**
 * `total_size` is an Apia `Decimal` (OpenAPI: number, format float). Neither document nor the docs
 * give its unit. A numeric string is accepted as well, in case a Decimal is ever serialized as
 * one; anything else is null rather than a failed call, because the value is informational.
 */
export function normalizeTotalSize(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(value)) return Number(value);
  return null;
}

/** `retention` (number of backups kept): an integer, or null when missing or not one. */
export function normalizeRetention(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

/** 200 of `GET /disk_backup_policies/disk_backup_policy` (field spec `*,target[id,name]`). */
export const diskBackupPolicyResponseSchema = z.object({
  disk_backup_policy: z.object({
    id: z.string().min(1),
    retention: z.unknown().optional(),
    total_size: z.unknown().optional(),
    target: z.unknown().optional(),
    schedule: z.unknown().optional(),
    auto_move_to_trash_at: z.number().int().nullish(),
  }),
});

/**
 * Apia's `PaginationObject`. `total` and `total_pages` may be null when `large_set` is true;
 * every field is tolerated when missing (the client then falls back to what it asked for).
 */
const paginationSchema = z.object({
  current_page: z.number().int().positive().nullish(),
  total_pages: z.number().int().nonnegative().nullish(),
  total: z.number().int().nonnegative().nullish(),
  per_page: z.number().int().positive().nullish(),
  large_set: z.boolean().nullish(),
});

/** 200 of `GET /organizations/organization/disk_backup_policies` (items: `id,retention,total_size,target[id,name],schedule[interval,next_invocation_at]`). */
export const organizationPoliciesResponseSchema = z.object({
  pagination: paginationSchema.nullish(),
  disk_backup_policies: z.array(
    z.object({
      id: z.string().min(1),
      retention: z.unknown().optional(),
      total_size: z.unknown().optional(),
      target: z.unknown().optional(),
      schedule: z.unknown().optional(),
    }),
  ),
});

/** 200 of `POST /trash_objects/trash_object/restore`: the `TrashObject` (every field tolerated when missing). */
export const trashObjectResponseSchema = z.object({
  trash_object: z.object({
    id: z.string().nullish(),
    keep_until: z.number().int().nullish(),
    object_id: z.string().nullish(),
    object_type: z.string().nullish(),
  }),
});
