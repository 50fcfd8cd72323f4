/**
 * Katapult's errors as the fake sends them, and the Apia framework's checks of arguments: a
 * lookup argument (`name[field]=value`, exactly one field), an `Integer` in the query string, a
 * required argument, a JSON body. Each returns the error's status and wrapped envelope
 * `{"error":{code,description,detail}}`; the server adds the headers. No HTTP here.
 */
import { type AnyErrorFixtureCode, errorFixtures } from '../fixtures/katapult/index.js';

export interface ApiaError {
  status: number;
  body: { error: { code: string; description: string; detail: Record<string, unknown> } };
}

/** An argument as Apia describes it in an error's `detail.argument`. */
export interface ApiaArgument {
  id: string;
  name: string;
  description: string;
}

export const GET_POLICY_ARGUMENT: ApiaArgument = {
  id: 'CoreAPI/Endpoints/DiskBackupPolicies/InfoEndpoint/DiskBackupPolicyArgument',
  name: 'disk_backup_policy',
  description: 'The disk backup policy to get information for',
};
export const ORGANIZATION_ARGUMENT: ApiaArgument = {
  id: 'CoreAPI/Endpoints/DiskBackupPolicies/ListEndpoint/OrganizationArgument',
  name: 'organization',
  description: 'The organization to return disk backup policies for',
};
export const RESTORE_ARGUMENT: ApiaArgument = {
  id: 'CoreAPI/Endpoints/TrashObjects/RestoreEndpoint/TrashObjectArgument',
  name: 'trash_object',
  description: 'The trash object to restore',
};
export const TIMESTAMP_ARGUMENT: ApiaArgument = {
  id: 'CoreAPI/Endpoints/DiskBackupPolicies/ScheduleDelete/TimestampArgument',
  name: 'timestamp',
  description: 'The time the disk backup policy will be moved to the trash automatically.',
};
export const SCHEDULE_POLICY_ARGUMENT: ApiaArgument = {
  id: 'CoreAPI/Endpoints/DiskBackupPolicies/ScheduleDelete/DiskBackupPolicyArgument',
  name: 'disk_backup_policy',
  description: 'The disk backup policy to delete',
};

/** An error with the fixture's status, description and detail unless overridden. */
export function apiaError(
  code: AnyErrorFixtureCode,
  override: { detail?: Record<string, unknown>; description?: string } = {},
): ApiaError {
  const fixture = errorFixtures[code];
  return {
    status: fixture.status,
    body: {
      error: {
        code,
        description: override.description ?? fixture.body.error.description,
        detail: override.detail ?? fixture.body.error.detail,
      },
    },
  };
}

/** 404 route_not_found, worded as Apia words it. */
export function routeNotFound(method: string, fullPath: string): ApiaError {
  return apiaError('route_not_found', {
    description: `No route matches '${fullPath.replace(/^\/+/, '')}' for ${method}`,
  });
}

/** 400 invalid_json_body: the body is not JSON. */
export function invalidJsonBody(): ApiaError {
  return {
    status: 400,
    body: {
      error: {
        code: 'invalid_json_body',
        description: 'The JSON body provided with this request is invalid',
        detail: { details: 'unexpected token' },
      },
    },
  };
}

export function missingArgument(argument: ApiaArgument): ApiaError {
  return apiaError('missing_required_argument', {
    description: `The '${argument.name}' argument is required but is missing`,
    detail: { path: [argument.name], argument },
  });
}

export function invalidLookup(
  argument: ApiaArgument,
  issue: 'missing_lookup_value' | 'ambiguous_lookup_values',
): ApiaError {
  return apiaError('invalid_argument', {
    detail: {
      path: [argument.name],
      index: null,
      issue,
      issue_description:
        issue === 'missing_lookup_value'
          ? 'A lookup argument was provided but no value was given for any of its fields.'
          : 'A lookup argument was provided with values for more than one of its fields, only one may be given.',
      errors: [],
      argument,
    },
  });
}

/**
 * Reads an Apia lookup from the query string (`name[field]=value`): exactly one non-empty field,
 * else the framework's error.
 */
export function queryLookup(
  query: URLSearchParams,
  argument: ApiaArgument,
  fields: readonly string[],
): { ok: true; field: string; value: string } | { ok: false; error: ApiaError } {
  const present = [...query.keys()].some((key) => key.startsWith(`${argument.name}[`));
  if (!present) return { ok: false, error: missingArgument(argument) };
  return pickOne(
    argument,
    fields.map((field) => ({ field, value: query.get(`${argument.name}[${field}]`) ?? '' })),
  );
}

/** Reads an Apia lookup from a JSON body's object: exactly one non-empty string field, else the framework's error. */
export function bodyLookup<F extends string>(
  lookup: unknown,
  argument: ApiaArgument,
  fields: readonly F[],
): { ok: true; field: F; value: string } | { ok: false; error: ApiaError } {
  const given = isRecord(lookup)
    ? fields.map((field) => ({ field, value: typeof lookup[field] === 'string' ? lookup[field] : '' }))
    : [];
  return pickOne(argument, given);
}

function pickOne<F extends string>(
  argument: ApiaArgument,
  candidates: { field: F; value: string }[],
): { ok: true; field: F; value: string } | { ok: false; error: ApiaError } {
  const given = candidates.filter((entry) => entry.value !== '');
  const [first] = given;
  if (!first) return { ok: false, error: invalidLookup(argument, 'missing_lookup_value') };
  if (given.length > 1) return { ok: false, error: invalidLookup(argument, 'ambiguous_lookup_values') };
  return { ok: true, ...first };
}

/** An Apia `Integer` argument from the query string: digits only and at least 1, else 400 invalid_argument. */
export function integerArgument(
  query: URLSearchParams,
  name: string,
  fallback: number,
): { ok: true; value: number } | { ok: false; error: ApiaError } {
  const raw = query.get(name);
  if (raw === null || raw === '') return { ok: true, value: fallback };
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isInteger(value) && value >= 1) return { ok: true, value };
  return {
    ok: false,
    error: apiaError('invalid_argument', {
      detail: {
        path: [name],
        index: null,
        issue: 'invalid_scalar',
        issue_description:
          'The value provided was not of an appropriate type for the scalar that was requested.',
        errors: [],
        argument: {
          id: `CoreAPI/Endpoints/DiskBackupPolicies/ListEndpoint/${name}`,
          name,
          description: null,
        },
      },
    }),
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
