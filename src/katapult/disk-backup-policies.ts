/**
 * Disk backup policies: schedule one's deletion, get one, list an organization's. Shapes follow
 * shared/katapult/FINDINGS.md, which differs from the OpenAPI document: polymorphs such as a
 * policy's `target` arrive as `{type, value}`. Every body is checked here first; the informational
 * fields (target, schedule, retention, size) are read by normalisers that never fail a call.
 */
import type { z } from 'zod';
import { assertId, assertPositiveInteger, assertToken } from './arguments.js';
import { lazySchema, unixSeconds } from './lazy-schema.js';
import { KATAPULT_ROUTES } from './routes.js';
import type { KatapultTransport } from './transport.js';

export interface ScheduledDeletion {
  policyId: string;
  /** Unix seconds. */
  autoMoveToTrashAt: number | null;
  target: { type: TargetType | null; id: string | null };
  /** Katapult's X-Request-Id header. */
  requestId: string | null;
}

/**
 * One disk backup policy as `GET /disk_backup_policies/disk_backup_policy` gives it.
 *
 * About `totalSize`: Katapult documents `total_size` only as an Apia `Decimal` (OpenAPI: `number`,
 * format `float`) with no description, and no recording of it was found, so its unit is UNKNOWN
 * (it is not named `…_in_gb` like the API's other sizes, and it may well be bytes or GB). It is
 * passed through unconverted; show it with that caveat or not at all.
 */
export interface DiskBackupPolicyDetails {
  id: string;
  /** Number of backups kept. */
  retention: number | null;
  /** Katapult's `total_size`, unconverted; unit undocumented (see above). */
  totalSize: number | null;
  target: NamedTarget;
  schedule: PolicySchedule | null;
  /** Unix seconds; null when no deletion is scheduled. */
  autoMoveToTrashAt: number | null;
  /** Katapult's X-Request-Id header. */
  requestId: string | null;
}

export interface PolicySummary {
  id: string;
  target: NamedTarget;
  retention: number | null;
  /** Unconverted, unit undocumented (see DiskBackupPolicyDetails). */
  totalSize: number | null;
  /** The list gives only `interval` and `next_invocation_at`; the other fields are null. Null when absent. */
  schedule: PolicySchedule | null;
}

/**
 * One page of an organization's policies. List items carry no `auto_move_to_trash_at`: to know
 * whether a policy is scheduled for deletion, get it with getDiskBackupPolicy.
 */
export interface PolicyPage {
  policies: PolicySummary[];
  /** Katapult's `current_page`, or the page asked for when it gave none. */
  page: number;
  /** Null when Katapult does not count (`large_set`) or gave none. */
  totalPages: number | null;
  /** Katapult's `per_page`, or the value asked for when it gave none. */
  perPage: number;
  /** Number of policies across all pages; null when not counted. */
  total: number | null;
  /** Katapult's `large_set`: true when it does not count the set (total and totalPages then null). */
  largeSet: boolean;
  requestId: string | null;
}

/** `per_page` Katapult uses when none is given. */
export const DEFAULT_POLICIES_PER_PAGE = 30;

/** Anything at or above this is surely milliseconds (it is the year 5138 in seconds). */
const FIRST_MILLISECOND_LOOKING_TIMESTAMP = 100_000_000_000;

/**
 * Asks Katapult to move a disk backup policy to the trash at `at` (Unix **seconds**, at least five
 * minutes ahead; Katapult checks that and answers 400 `invalid_timestamp` otherwise).
 * `DELETE {base}/disk_backup_policies/disk_backup_policy/schedule` with
 * `{"disk_backup_policy":{"id":policyId},"timestamp":at}`.
 */
export async function scheduleDiskBackupPolicyDeletion(
  transport: KatapultTransport,
  token: string,
  policyId: string,
  at: number,
): Promise<ScheduledDeletion> {
  assertToken(token);
  if (typeof policyId !== 'string' || policyId.trim() === '') {
    throw new TypeError('policyId must be a non-empty string');
  }
  if (typeof at !== 'number' || !Number.isInteger(at)) {
    throw new TypeError('at must be an integer number of Unix seconds');
  }
  if (at <= 0) throw new RangeError('at must be a positive number of Unix seconds');
  if (at >= FIRST_MILLISECOND_LOOKING_TIMESTAMP) {
    throw new RangeError('at looks like milliseconds; pass Unix seconds');
  }

  const { data, requestId } = await transport.call(token, {
    operation: 'scheduleDiskBackupPolicyDeletion',
    route: KATAPULT_ROUTES.scheduleDiskBackupPolicyDeletion,
    body: { disk_backup_policy: { id: policyId }, timestamp: at },
    schema: scheduleDeletionResponseSchema(),
  });
  const policy = data.disk_backup_policy;
  return {
    policyId: policy.id,
    autoMoveToTrashAt: policy.auto_move_to_trash_at ?? null,
    target: normalizeTarget(policy.target),
    requestId,
  };
}

/**
 * One policy with its schedule, retention, target (with name) and `auto_move_to_trash_at`.
 * `GET {base}/disk_backup_policies/disk_backup_policy?disk_backup_policy%5Bid%5D=<policyId>`
 * (Apia's bracket lookup, URL-encoded). Needs scope `disk_backup_policies` or
 * `disk_backup_policies:read`. Errors as for scheduling, notably 404
 * `disk_backup_policy_not_found` and 406 `object_in_trash` (with `detail.trash_object`).
 */
export async function getDiskBackupPolicy(
  transport: KatapultTransport,
  token: string,
  policyId: string,
): Promise<DiskBackupPolicyDetails> {
  assertToken(token);
  assertId('policyId', policyId);
  const { data, requestId } = await transport.call(token, {
    operation: 'getDiskBackupPolicy',
    route: KATAPULT_ROUTES.getDiskBackupPolicy,
    query: new URLSearchParams({ 'disk_backup_policy[id]': policyId }),
    schema: diskBackupPolicyResponseSchema(),
  });
  const policy = data.disk_backup_policy;
  return {
    id: policy.id,
    ...informationalFields(policy),
    autoMoveToTrashAt: policy.auto_move_to_trash_at ?? null,
    requestId,
  };
}

/**
 * One page of an organization's disk backup policies.
 * `GET {base}/organizations/organization/disk_backup_policies?organization%5Bid%5D=…&page=…&per_page=…`.
 * `page` starts at 1; `perPage` defaults to Katapult's own default, 30. Errors include 404
 * `organization_not_found` and 403 `organization_suspended` / `organization_not_activated`.
 */
export async function listOrganizationPolicies(
  transport: KatapultTransport,
  token: string,
  organizationId: string,
  page = 1,
  perPage = DEFAULT_POLICIES_PER_PAGE,
): Promise<PolicyPage> {
  assertToken(token);
  assertId('organizationId', organizationId);
  assertPositiveInteger('page', page);
  assertPositiveInteger('perPage', perPage);
  const { data, requestId } = await transport.call(token, {
    operation: 'listOrganizationPolicies',
    route: KATAPULT_ROUTES.listOrganizationPolicies,
    query: new URLSearchParams({
      'organization[id]': organizationId,
      page: String(page),
      per_page: String(perPage),
    }),
    schema: organizationPoliciesResponseSchema(),
  });
  const pagination = data.pagination ?? {};
  return {
    policies: data.disk_backup_policies.map((policy) => ({ id: policy.id, ...informationalFields(policy) })),
    page: pagination.current_page ?? page,
    totalPages: pagination.total_pages ?? null,
    perPage: pagination.per_page ?? perPage,
    total: pagination.total ?? null,
    largeSet: pagination.large_set ?? false,
    requestId,
  };
}

/** What the get and the list both read, in the same way. */
function informationalFields(policy: z.infer<ReturnType<typeof policyFieldsSchema>>) {
  return {
    retention: normalizeRetention(policy.retention),
    totalSize: normalizeTotalSize(policy.total_size),
    target: normalizeNamedTarget(policy.target),
    schedule: normalizeSchedule(policy.schedule),
  };
}

export const targetTypes = ['VirtualMachine', 'Disk'] as const;
export type TargetType = (typeof targetTypes)[number];

const idHolderSchema = lazySchema((z) => z.object({ id: z.string() }));

/** Apia's wire form of a polymorph: `{"type":"VirtualMachine","value":{"id":"vm_…"}}`. */
const wireTargetSchema = lazySchema((z) =>
  z.object({ type: z.string(), value: z.object({ id: z.string().optional() }) }),
);
/** The OpenAPI document's form: `{"target":{"id":"vm_…"}}`. */
const openApiTargetSchema = lazySchema((z) => z.object({ target: idHolderSchema() }));

/**
 * Reads a policy's `target` in whichever form it came. Never fails: an unknown shape gives
 * `{type: null, id: null}`, because the target is informational and must not sink a successful call.
 */
export function normalizeTarget(value: unknown): { type: TargetType | null; id: string | null } {
  const wire = wireTargetSchema().safeParse(value);
  if (wire.success) {
    const type = targetTypes.find((t) => t === wire.data.type) ?? null;
    return { type, id: wire.data.value.id ?? null };
  }
  const wrapped = openApiTargetSchema().safeParse(value);
  if (wrapped.success) return { type: null, id: wrapped.data.target.id };
  const bare = idHolderSchema().safeParse(value);
  if (bare.success) return { type: null, id: bare.data.id };
  return { type: null, id: null };
}

/** 200 of `DELETE /disk_backup_policies/disk_backup_policy/schedule` (field spec `id,auto_move_to_trash_at,target[id]`). */
const scheduleDeletionResponseSchema = lazySchema((z) =>
  z.object({
    disk_backup_policy: z.object({
      id: z.string().min(1),
      auto_move_to_trash_at: unixSeconds(z).nullish(),
      target: z.unknown().optional(),
    }),
  }),
);

/** Apia's wire form of a polymorph with the `target[id,name]` spec: `{"type":"Disk","value":{"id":"disk_…","name":"…"}}`. */
const wireNamedTargetSchema = lazySchema((z) =>
  z.object({
    type: z.string(),
    value: z.object({ id: z.string().optional(), name: z.string().nullish() }),
  }),
);
const namedIdHolderSchema = lazySchema((z) => z.object({ id: z.string(), name: z.string().nullish() }));
/** The OpenAPI document's form: `{"target":{"id":"vm_…","name":"…"}}`. */
const openApiNamedTargetSchema = lazySchema((z) => z.object({ target: namedIdHolderSchema() }));

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
  const wire = wireNamedTargetSchema().safeParse(value);
  if (wire.success) {
    const type = targetTypes.find((t) => t === wire.data.type) ?? null;
    return { type, id: wire.data.value.id ?? null, name: wire.data.value.name ?? null };
  }
  const wrapped = openApiNamedTargetSchema().safeParse(value);
  if (wrapped.success)
    return { type: null, id: wrapped.data.target.id, name: wrapped.data.target.name ?? null };
  const bare = namedIdHolderSchema().safeParse(value);
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

const scheduleSchema = lazySchema((z) => {
  const integerOrNull = z
    .number()
    .int()
    .nullish()
    .catch(null)
    .transform((v) => v ?? null);
  return z.object({
    interval: z
      .string()
      .nullish()
      .catch(null)
      .transform((v) => v ?? null),
    frequency: integerOrNull,
    time: integerOrNull,
    minute: integerOrNull,
    // Informational like the rest: a time past what a date holds reads as none.
    next_invocation_at: unixSeconds(z)
      .nullish()
      .catch(null)
      .transform((v) => v ?? null),
  });
});

/**
 * Reads a policy's `schedule`. Never fails: the schedule is informational, so a missing or odd one
 * gives null and an odd field gives null for that field.
 */
export function normalizeSchedule(value: unknown): PolicySchedule | null {
  const parsed = scheduleSchema().safeParse(value);
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

/** A policy as the get and the list give it: the id checked, the informational fields left to the normalisers. */
const policyFieldsSchema = lazySchema((z) =>
  z.object({
    id: z.string().min(1),
    retention: z.unknown().optional(),
    total_size: z.unknown().optional(),
    target: z.unknown().optional(),
    schedule: z.unknown().optional(),
  }),
);

/** 200 of `GET /disk_backup_policies/disk_backup_policy` (field spec `*,target[id,name]`). */
const diskBackupPolicyResponseSchema = lazySchema((z) =>
  z.object({
    disk_backup_policy: policyFieldsSchema().extend({ auto_move_to_trash_at: unixSeconds(z).nullish() }),
  }),
);

/**
 * Apia's `PaginationObject`. `total` and `total_pages` may be null when `large_set` is true;
 * every field is tolerated when missing (the client then falls back to what it asked for).
 */
const paginationSchema = lazySchema((z) =>
  z.object({
    current_page: z.number().int().positive().nullish(),
    total_pages: z.number().int().nonnegative().nullish(),
    total: z.number().int().nonnegative().nullish(),
    per_page: z.number().int().positive().nullish(),
    large_set: z.boolean().nullish(),
  }),
);

/** 200 of `GET /organizations/organization/disk_backup_policies` (items: `id,retention,total_size,target[id,name],schedule[interval,next_invocation_at]`). */
const organizationPoliciesResponseSchema = lazySchema((z) =>
  z.object({
    pagination: paginationSchema().nullish(),
    disk_backup_policies: z.array(policyFieldsSchema()),
  }),
);
