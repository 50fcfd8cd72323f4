/**
 * The workspace's Katapult API token, stored in Keyv and sealed with AES-256-GCM. Metadata (who set
 * it, when, for which organization) is kept beside it in the clear; the token itself never is.
 */
import type Keyv from 'keyv';
import type { SecretBox } from './crypto.js';

export interface StoredToken {
  token: string;
  setBy: string;
  setAt: number;
  organizationName: string | null;
  /** The organization the token belongs to (the first, when it reaches several). */
  organizationId?: string | null;
}

export interface TokenStatus {
  last4: string;
  setBy: string;
  setAt: number;
  organizationName: string | null;
  /** The organization the token belongs to (the first, when it reaches several). */
  organizationId?: string | null;
}

interface TokenRecord {
  sealed: string;
  last4: string;
  setBy: string;
  setAt: number;
  organizationName: string | null;
  /** The organization the token belongs to (the first, when it reaches several). */
  organizationId?: string | null;
}

export interface TokenStore {
  get(workspaceId: string): Promise<StoredToken | null>;
  status(workspaceId: string): Promise<TokenStatus | null>;
  set(workspaceId: string, token: StoredToken): Promise<void>;
  remove(workspaceId: string): Promise<boolean>;
}

const keyFor = (workspaceId: string) => `token:${workspaceId}`;

function isRecord(value: unknown): value is TokenRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.sealed === 'string' && typeof r.setBy === 'string' && typeof r.setAt === 'number';
}

export function createTokenStore(kv: Keyv, box: SecretBox): TokenStore {
  const read = async (workspaceId: string): Promise<TokenRecord | null> => {
    const value: unknown = await kv.get(keyFor(workspaceId));
    return isRecord(value) ? value : null;
  };
  return {
    async get(workspaceId) {
      const record = await read(workspaceId);
      if (!record) return null;
      return {
        token: box.open(record.sealed, keyFor(workspaceId)),
        setBy: record.setBy,
        setAt: record.setAt,
        organizationName: record.organizationName ?? null,
        organizationId: record.organizationId ?? null,
      };
    },
    async status(workspaceId) {
      const record = await read(workspaceId);
      if (!record) return null;
      return {
        last4: record.last4,
        setBy: record.setBy,
        setAt: record.setAt,
        organizationName: record.organizationName ?? null,
        organizationId: record.organizationId ?? null,
      };
    },
    async set(workspaceId, { token, setBy, setAt, organizationName, organizationId }) {
      const record: TokenRecord = {
        sealed: box.seal(token, keyFor(workspaceId)),
        last4: token.slice(-4),
        setBy,
        setAt,
        organizationName,
        organizationId: organizationId ?? null,
      };
      await kv.set(keyFor(workspaceId), record);
    },
    async remove(workspaceId) {
      return kv.delete(keyFor(workspaceId));
    },
  };
}
