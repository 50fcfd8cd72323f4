/**
 * The workspace's Katapult token as the rest of the bot sees it: look it up (stored, else the
 * deployment's fallback), validate and save a new one, show its status, remove it.
 */
import type { KatapultIdentity } from '../katapult/client.js';
import { isKatapultError, type KatapultError } from '../katapult/errors.js';
import type { Redactor } from '../log.js';
import type { TokenStatus, TokenStore } from '../store/token-store.js';

export type TokenFailure = { kind: 'no_token' } | { kind: 'store_unavailable' };

export interface KatapultIdentifier {
  identify(token: string): Promise<KatapultIdentity>;
}

export type SetTokenResult =
  | { ok: true; organizationName: string | null; last4: string }
  | { ok: false; failure: KatapultError | TokenFailure | { kind: 'invalid_format' } };

export interface WorkspaceTokens {
  tokenFor(workspaceId: string): Promise<{ ok: true; token: string } | { ok: false; failure: TokenFailure }>;
  status(
    workspaceId: string,
  ): Promise<
    { ok: true; status: TokenStatus | null; fallback: boolean } | { ok: false; failure: TokenFailure }
  >;
  set(workspaceId: string, token: string, setBy: string, nowMs: number): Promise<SetTokenResult>;
  remove(workspaceId: string): Promise<{ ok: true; removed: boolean } | { ok: false; failure: TokenFailure }>;
  /**
   * The Katapult organization the workspace's token belongs to (asked of Katapult for the fallback
   * token); null when it names none or there is no token. Rejects when it could not be read.
   */
  organizationId(workspaceId: string): Promise<string | null>;
}

/**
 * Katapult tokens are opaque, but they travel as HTTP bearer tokens, whose syntax is `b64token`
 * (RFC 6750 §2.1): letters, digits, `-._~+/`, then `=` padding. Anything else cannot be one, and is
 * refused before it reaches Katapult or the log redactor (so `,"level":"` cannot be "a token").
 */
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/-]+=*$/;
const TOKEN_LENGTH = { min: 8, max: 512 };

/** The redactor's owner key for a workspace's accepted Katapult token. */
const owner = (workspaceId: string) => `katapult:${workspaceId}`;

export function createWorkspaceTokens(deps: {
  store: TokenStore;
  katapult: KatapultIdentifier;
  fallbackToken: string | null;
  redactor: Redactor;
  onStoreError: (error: unknown, operation: string) => void;
}): WorkspaceTokens {
  const { store, katapult, fallbackToken, redactor, onStoreError } = deps;
  const storeFailure = (error: unknown, operation: string) => {
    onStoreError(error, operation);
    return { ok: false as const, failure: { kind: 'store_unavailable' as const } };
  };

  const check = async (
    workspaceId: string,
    token: string,
    setBy: string,
    nowMs: number,
  ): Promise<SetTokenResult> => {
    let identity: KatapultIdentity;
    try {
      identity = await katapult.identify(token);
    } catch (error) {
      if (isKatapultError(error)) return { ok: false, failure: error };
      throw error;
    }
    const organizationName = identity.organizations.map((o) => o.name).join(', ') || null;
    try {
      await store.set(workspaceId, {
        token,
        setBy,
        setAt: Math.floor(nowMs / 1000),
        organizationName,
        organizationId: identity.organizations[0]?.id ?? null,
      });
    } catch (error) {
      return storeFailure(error, 'save token');
    }
    // Accepted and saved: from now on it is redacted everywhere, in place of the one it replaces.
    redactor.remember(owner(workspaceId), token);
    return { ok: true, organizationName, last4: token.slice(-4) };
  };

  let fallbackOrganization: Promise<string | null> | undefined;
  return {
    async tokenFor(workspaceId) {
      try {
        const stored = await store.get(workspaceId);
        // A stored token was accepted by Katapult when it was set (here or on another replica); the
        // fallback is a deployment secret, redacted from the start.
        if (stored) redactor.remember(owner(workspaceId), stored.token);
        const token = stored?.token ?? fallbackToken;
        if (!token) return { ok: false, failure: { kind: 'no_token' } };
        return { ok: true, token };
      } catch (error) {
        return storeFailure(error, 'read token');
      }
    },
    async status(workspaceId) {
      try {
        const status = await store.status(workspaceId);
        return { ok: true, status, fallback: status === null && fallbackToken !== null };
      } catch (error) {
        return storeFailure(error, 'read token status');
      }
    },
    async set(workspaceId, rawToken, setBy, nowMs) {
      const token = rawToken.trim();
      if (token.length < TOKEN_LENGTH.min || token.length > TOKEN_LENGTH.max || !TOKEN_SHAPE.test(token)) {
        return { ok: false, failure: { kind: 'invalid_format' } };
      }
      // Until Katapult accepts it, the token is redacted from this request's own lines only.
      return redactor.during(token, () => check(workspaceId, token, setBy, nowMs));
    },
    async organizationId(workspaceId) {
      const status = await store.status(workspaceId);
      if (status) return status.organizationId ?? null;
      if (!fallbackToken) return null;
      // A failure is not "no organization" (the picker keeps that for a while): asked again next time.
      fallbackOrganization ??= katapult.identify(fallbackToken).then(
        (identity) => identity.organizations[0]?.id ?? null,
        (error: unknown) => {
          fallbackOrganization = undefined;
          throw error;
        },
      );
      return fallbackOrganization;
    },
    async remove(workspaceId) {
      try {
        const removed = await store.remove(workspaceId);
        redactor.forget(owner(workspaceId));
        return { ok: true, removed };
      } catch (error) {
        return storeFailure(error, 'remove token');
      }
    },
  };
}
