/**
 * Every Katapult Core API route the bot uses, in one table: the client sends to these, the fake
 * Katapult server answers them, and the contract test finds each in Katapult's OpenAPI document by
 * its `operationId`. Paths are relative to the base URL (`…/core/v1`).
 */
export const KATAPULT_ROUTES = {
  scheduleDiskBackupPolicyDeletion: {
    method: 'DELETE',
    path: '/disk_backup_policies/disk_backup_policy/schedule',
    operationId: 'delete:disk_backup_policy_schedule',
  },
  getDiskBackupPolicy: {
    method: 'GET',
    path: '/disk_backup_policies/disk_backup_policy',
    operationId: 'get:disk_backup_policy',
  },
  listOrganizationPolicies: {
    method: 'GET',
    path: '/organizations/organization/disk_backup_policies',
    operationId: 'get:organization_disk_backup_policies',
  },
  restoreTrashObject: {
    method: 'POST',
    path: '/trash_objects/trash_object/restore',
    operationId: 'post:trash_object_restore',
  },
  getCurrentUser: { method: 'GET', path: '/users/current', operationId: 'get:users_current' },
  listOrganizations: { method: 'GET', path: '/organizations', operationId: 'get:organizations' },
} as const;

/** A route's name in the table; also the `operation` the client reports to `onAttempt`. */
export type KatapultOperation = keyof typeof KATAPULT_ROUTES;

export type KatapultRoute = (typeof KATAPULT_ROUTES)[KatapultOperation];

/** `"METHOD /path"`, the form the fake server's `enqueue` and request log use. */
export function routeKey(route: KatapultRoute): `${KatapultRoute['method']} ${KatapultRoute['path']}` {
  return `${route.method} ${route.path}`;
}
