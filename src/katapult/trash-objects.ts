/** Taking an object back out of Katapult's trash. */
import { assertId, assertToken } from './arguments.js';
import { lazySchema, unixSeconds } from './lazy-schema.js';
import { KATAPULT_ROUTES } from './routes.js';
import type { KatapultTransport } from './transport.js';

export interface RestoredTrashObject {
  /** The trash object's id (`trsh_…`). */
  id: string | null;
  /** The restored object's id, e.g. the policy id. */
  objectId: string | null;
  /** e.g. `DiskBackupPolicy` (UNCERTAIN: the exact string for a policy has not been seen). */
  objectType: string | null;
  /** Unix seconds until which it would have been kept in the trash. */
  keepUntil: number | null;
  requestId: string | null;
}

/** 200 of `POST /trash_objects/trash_object/restore`: the `TrashObject` (every field tolerated when missing). */
const trashObjectResponseSchema = lazySchema((z) =>
  z.object({
    trash_object: z.object({
      id: z.string().nullish(),
      keep_until: unixSeconds(z).nullish().catch(null),
      object_id: z.string().nullish(),
      object_type: z.string().nullish(),
    }),
  }),
);

/**
 * Takes an object (here: a disk backup policy moved to the trash) back out of the trash, which
 * Katapult allows until the trash object's `keep_until`.
 * `POST {base}/trash_objects/trash_object/restore` with `{"trash_object":{"object_id":objectId}}`.
 * Needs scope `trash_objects:restore` (403 `scope_not_granted` otherwise); 404
 * `trash_object_not_found` when the object is not in the trash (never trashed, already restored,
 * or purged).
 *
 * Retries as the other calls, except after a timeout: restoring is not idempotent (a repeat of a
 * restore that did happen answers 404 `trash_object_not_found`), so a lost answer is reported
 * as a KatapultTimeoutError rather than turned into a misleading 404.
 */
export async function restoreTrashObject(
  transport: KatapultTransport,
  token: string,
  objectId: string,
): Promise<RestoredTrashObject> {
  assertToken(token);
  assertId('objectId', objectId);
  const { data, requestId } = await transport.call(token, {
    operation: 'restoreTrashObject',
    route: KATAPULT_ROUTES.restoreTrashObject,
    body: { trash_object: { object_id: objectId } },
    schema: trashObjectResponseSchema(),
    retryTimeouts: false,
  });
  const trash = data.trash_object;
  return {
    id: trash.id ?? null,
    objectId: trash.object_id ?? null,
    objectType: trash.object_type ?? null,
    keepUntil: trash.keep_until ?? null,
    requestId,
  };
}
