/** The use-cases behind the modal's preview and picker: read one policy, list the organization's. */
import type { DiskBackupPolicyDetails, PolicySummary } from '../katapult/client.js';
import type { WorkspaceTokens } from '../tokens/workspace-tokens.js';
import { type KatapultCallResult, withWorkspaceToken } from './katapult-call.js';

export type { DiskBackupPolicyDetails, PolicySummary };

export interface KatapultReader {
  getDiskBackupPolicy(token: string, policyId: string): Promise<DiskBackupPolicyDetails>;
  listOrganizationPolicies(
    token: string,
    organizationId: string,
    page?: number,
    perPage?: number,
  ): Promise<{ policies: PolicySummary[]; totalPages: number | null; page: number }>;
}

export function previewPolicy(
  deps: { tokens: WorkspaceTokens; katapult: KatapultReader },
  request: { workspaceId: string; policyId: string },
): Promise<KatapultCallResult<DiskBackupPolicyDetails>> {
  return withWorkspaceToken(deps.tokens, request.workspaceId, (token) =>
    deps.katapult.getDiskBackupPolicy(token, request.policyId),
  );
}

/** Every policy of the organization, following pages (bounded: a picker does not need thousands). */
export function listPolicies(
  deps: { tokens: WorkspaceTokens; katapult: KatapultReader },
  request: { workspaceId: string; organizationId: string; maxPages?: number },
): Promise<KatapultCallResult<PolicySummary[]>> {
  return withWorkspaceToken(deps.tokens, request.workspaceId, async (token) => {
    const all: PolicySummary[] = [];
    for (let page = 1; page <= (request.maxPages ?? 10); page++) {
      const result = await deps.katapult.listOrganizationPolicies(token, request.organizationId, page, 100);
      all.push(...result.policies);
      if (result.policies.length === 0 || (result.totalPages !== null && page >= result.totalPages)) break;
    }
    return all;
  });
}
