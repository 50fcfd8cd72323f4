/**
 * Whom a token belongs to: `GET /users/current`, falling back to `GET /organizations` for
 * organization tokens.
 */
import type { z } from 'zod';
import { assertToken } from './arguments.js';
import { KatapultApiError } from './errors.js';
import { lazySchema } from './lazy-schema.js';
import { KATAPULT_ROUTES } from './routes.js';
import type { KatapultTransport } from './transport.js';

export interface KatapultIdentity {
  organizations: { id: string; name: string; subDomain: string | null }[];
  /** "First Last" from /users/current; null for organization tokens. */
  userName: string | null;
}

const organizationSummarySchema = lazySchema((z) =>
  z.object({
    id: z.string().min(1),
    name: z.string(),
    sub_domain: z.string().nullish(),
  }),
);

/** 200 of `GET /users/current`. */
const currentUserResponseSchema = lazySchema((z) =>
  z.object({
    user: z.object({
      id: z.string().optional(),
      first_name: z.string().nullish(),
      last_name: z.string().nullish(),
    }),
    organizations: z.array(organizationSummarySchema()),
  }),
);

/** 200 of `GET /organizations`. */
const organizationsResponseSchema = lazySchema((z) =>
  z.object({
    organizations: z.array(organizationSummarySchema()),
  }),
);

/** Codes for which identify() falls back from /users/current to /organizations. */
const NOT_A_USER_TOKEN_CODES = new Set(['no_user_associated_with_identity', 'scope_not_granted']);

/**
 * Checks a token and says whom it belongs to. `GET /users/current` needs no scope but only works
 * for user tokens; when Katapult answers `no_user_associated_with_identity` (an organization
 * token) or `scope_not_granted`, this asks `GET /organizations` instead. Any other failure
 * (for example 403 `invalid_api_token`) is thrown as is.
 */
export async function identify(transport: KatapultTransport, token: string): Promise<KatapultIdentity> {
  assertToken(token);
  try {
    const { data } = await transport.call(token, {
      operation: 'getCurrentUser',
      route: KATAPULT_ROUTES.getCurrentUser,
      schema: currentUserResponseSchema(),
    });
    return { organizations: data.organizations.map(toOrganization), userName: fullName(data.user) };
  } catch (error) {
    if (!(error instanceof KatapultApiError && NOT_A_USER_TOKEN_CODES.has(error.code))) throw error;
  }
  try {
    const { data } = await transport.call(token, {
      operation: 'listOrganizations',
      route: KATAPULT_ROUTES.listOrganizations,
      schema: organizationsResponseSchema(),
    });
    return { organizations: data.organizations.map(toOrganization), userName: null };
  } catch (error) {
    // Katapult authenticates before it checks scopes: a scope refusal means the token itself is
    // good, only its organization cannot be named (no organizations:read).
    if (error instanceof KatapultApiError && error.code === 'scope_not_granted') {
      return { organizations: [], userName: null };
    }
    throw error;
  }
}

function toOrganization(org: z.infer<ReturnType<typeof organizationSummarySchema>>) {
  return { id: org.id, name: org.name, subDomain: org.sub_domain ?? null };
}

function fullName(user: { first_name?: string | null | undefined; last_name?: string | null | undefined }) {
  const name = [user.first_name, user.last_name]
    .filter((part) => typeof part === 'string' && part.trim() !== '')
    .join(' ')
    .trim();
  return name === '' ? null : name;
}
