/**
 * Contract test: every request the client really sends (recorded by the fake Katapult server) must
 * match an operation of Katapult's own OpenAPI document, validate against it (path, method, body)
 * and satisfy its security and content-type rules. The fake's success answers are checked against
 * the document's response schemas, and the error fixtures against the document and the native
 * Apia schema. The last block pins down where the document and the real API disagree.
 */
import fs from 'node:fs';
import path from 'node:path';
import fetch from 'node-fetch';
import { type Document, OpenAPIBackend, type Operation } from 'openapi-backend';
import { KatapultClient } from '../../src/katapult/client.js';
import { KATAPULT_ROUTES, routeKey } from '../../src/katapult/routes.js';
import {
  type FakeKatapult,
  type RecordedKatapultRequest,
  startFakeKatapult,
} from '../../support/fakes/katapult-api.js';
import { fakeOrganizationId } from '../../support/fakes/katapult-catalogue.js';
import { allErrorFixtureCodes, errorFixtures } from '../../support/fixtures/katapult/index.js';

const OPENAPI_FILE = path.resolve(process.cwd(), 'vendor/katapult/katapult-core-openapi.json');
const APIA_SCHEMA_FILE = path.resolve(process.cwd(), 'vendor/katapult/schemas/core/v1.json');
const SCHEDULE_OP = KATAPULT_ROUTES.scheduleDiskBackupPolicyDeletion.operationId;
const SCHEDULE_PATH = KATAPULT_ROUTES.scheduleDiskBackupPolicyDeletion.path;
const GET_POLICY_OP = KATAPULT_ROUTES.getDiskBackupPolicy.operationId;
const GET_POLICY_PATH = KATAPULT_ROUTES.getDiskBackupPolicy.path;
const LIST_POLICIES_OP = KATAPULT_ROUTES.listOrganizationPolicies.operationId;
const LIST_POLICIES_PATH = KATAPULT_ROUTES.listOrganizationPolicies.path;
const RESTORE_OP = KATAPULT_ROUTES.restoreTrashObject.operationId;
const RESTORE_PATH = KATAPULT_ROUTES.restoreTrashObject.path;
const CURRENT_USER_OP = KATAPULT_ROUTES.getCurrentUser.operationId;
const ORGANIZATIONS_OP = KATAPULT_ROUTES.listOrganizations.operationId;
const ACME_ORG_ID = fakeOrganizationId('Acme Ops');
const USER_TOKEN = 'kt-contract-user-token';
const ORG_TOKEN = 'kt-contract-org-token';
const NOW_MS = Date.UTC(2026, 0, 15, 9, 30, 0);
const AT = Math.floor(NOW_MS / 1000) + 3600;
/** Errors raised by the Apia framework itself, which the document does not list per operation. */
const FRAMEWORK_CODES = new Set([
  'invalid_argument',
  'missing_required_argument',
  'route_not_found',
  'unhandled_exception',
]);

type JsonRecord = Record<string, unknown>;

function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isOpenApi30(value: unknown): value is Document {
  return (
    isRecord(value) &&
    typeof value.openapi === 'string' &&
    value.openapi.startsWith('3.0') &&
    isRecord(value.info) &&
    isRecord(value.paths)
  );
}

/**
 * The document marks some properties `nullable` next to an `allOf` with no `type` (123 places,
 * e.g. `ObjectInTrash.trash_object`). OpenAPI 3.0 gives that no meaning and Ajv refuses to compile
 * it ("nullable cannot be used without type"), which breaks response validation of the schedule
 * operation. Rewrite each to the evident intent, `anyOf: [schema, null]`, and nothing else.
 */
function explicitNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(explicitNullable);
  if (!isRecord(node)) return node;
  const out: JsonRecord = {};
  for (const [key, value] of Object.entries(node)) out[key] = explicitNullable(value);
  if ('nullable' in out && !('type' in out)) {
    const { nullable, ...rest } = out;
    return nullable === true ? { anyOf: [rest, { type: 'null' }] } : rest;
  }
  return out;
}

function loadDocument(): Document {
  const parsed: unknown = JSON.parse(fs.readFileSync(OPENAPI_FILE, 'utf8'));
  const normalized = explicitNullable(parsed);
  if (!isOpenApi30(normalized)) throw new Error(`${OPENAPI_FILE} is not an OpenAPI 3.0 document`);
  return normalized;
}

let api: OpenAPIBackend;
let fake: FakeKatapult;

beforeAll(async () => {
  // quick: validators are compiled lazily, only for the operations used here (a full init takes ~6 s).
  api = new OpenAPIBackend({ definition: loadDocument(), strict: true, quick: true });
  await api.init();
  fake = await startFakeKatapult({ now: () => NOW_MS });
  fake.setTokens({ [USER_TOKEN]: 'Acme Ops', [ORG_TOKEN]: { organization: 'Acme Ops', user: null } });
});

afterAll(async () => {
  await fake.close();
});

function definedHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

function operationFor(request: {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
}) {
  return api.matchOperation({
    method: request.method.toLowerCase(),
    path: request.path,
    headers: definedHeaders(request.headers),
  });
}

/** Security requirements of the operation (or the document) that the request's headers meet; [] = none met. */
function securityProblems(operation: Operation, headers: Record<string, string | undefined>): string[] {
  const requirements = operation.security ?? api.definition.security ?? [];
  if (requirements.length === 0) return [];
  const schemes = api.definition.components?.securitySchemes ?? {};
  const bearer = /^Bearer [^\s]+$/.test(headers.authorization ?? '');
  const problems: string[] = [];
  for (const requirement of requirements) {
    const unmet = Object.keys(requirement).filter((name) => {
      const scheme = schemes[name];
      if (!scheme || !('type' in scheme)) return true;
      if (scheme.type === 'http') return scheme.scheme.toLowerCase() !== 'bearer' || !bearer;
      if (scheme.type === 'oauth2') return !bearer; // an OAuth2 access token also travels as a bearer token
      if (scheme.type === 'apiKey') return scheme.in !== 'header' || !headers[scheme.name.toLowerCase()];
      return true;
    });
    if (unmet.length === 0) return [];
    problems.push(`requirement ${Object.keys(requirement).join('+')} not met`);
  }
  return problems;
}

/** Content-Type, body presence and Accept, as the operation describes them. */
function contentProblems(operation: Operation, request: RecordedKatapultRequest): string[] {
  const problems: string[] = [];
  const contentType = request.headers['content-type']?.split(';')[0]?.trim();
  const requestBody = operation.requestBody;
  if (requestBody && 'content' in requestBody) {
    const mediaTypes = Object.keys(requestBody.content);
    if (!contentType || !mediaTypes.includes(contentType)) {
      problems.push(`Content-Type ${contentType ?? '(none)'} is not one of ${mediaTypes.join(', ')}`);
    }
    const schema = requestBody.content[contentType ?? '']?.schema;
    const requiredFields = schema && 'required' in schema ? (schema.required ?? []) : [];
    if (request.rawBody === '' && (requestBody.required || requiredFields.length > 0)) {
      problems.push(`a body with ${requiredFields.join(', ')} is required`);
    }
  } else if (request.rawBody !== '' || contentType) {
    problems.push('the operation takes no body');
  }
  const ok = operation.responses?.['200'];
  const produced = ok && 'content' in ok ? Object.keys(ok.content ?? {}) : [];
  const accept = request.headers.accept ?? '*/*';
  if (!produced.some((type) => accept.includes(type) || accept.includes('*/*'))) {
    problems.push(`Accept ${accept} does not cover ${produced.join(', ')}`);
  }
  return problems;
}

/**
 * Runs the client through every path it has and returns what the fake server recorded. Failures
 * are ignored here: a request the fake refuses must still reach the contract checks below.
 */
async function recordClientTraffic(): Promise<RecordedKatapultRequest[]> {
  fake.reset();
  const client = new KatapultClient({ baseUrl: `${fake.baseUrl}/`, fetch, sleep: async () => {} });
  const settle = (promise: Promise<unknown>) => promise.catch(() => undefined);
  await settle(client.scheduleDiskBackupPolicyDeletion(USER_TOKEN, 'dbp_b3DMkzRt8iWqXo4s', AT));
  fake.enqueue(`DELETE ${SCHEDULE_PATH}`, { status: 429, body: errorFixtures.rate_limit_reached.body });
  await settle(client.scheduleDiskBackupPolicyDeletion(USER_TOKEN, 'dbp_retried', AT));
  await settle(client.scheduleDiskBackupPolicyDeletion(USER_TOKEN, 'missing-policy', AT));
  await settle(client.identify(USER_TOKEN));
  await settle(client.identify(ORG_TOKEN));
  const [first] = fake.policies();
  if (!first) throw new Error('the fake has no policies');
  await settle(client.getDiskBackupPolicy(USER_TOKEN, first.id));
  await settle(client.getDiskBackupPolicy(USER_TOKEN, 'dbp_a&b=c d'));
  await settle(client.listOrganizationPolicies(USER_TOKEN, ACME_ORG_ID));
  await settle(client.listOrganizationPolicies(USER_TOKEN, ACME_ORG_ID, 2, 10));
  fake.trashPolicy(first.id, Math.floor(NOW_MS / 1000) + 3600);
  await settle(client.restoreTrashObject(USER_TOKEN, first.id));
  await settle(client.restoreTrashObject(USER_TOKEN, first.id));
  fake.resetPolicies();
  return [...fake.requests];
}

describe('the route table', () => {
  it.each(Object.entries(KATAPULT_ROUTES))(
    "%s is the document's operation of that method and path",
    (_name, route) => {
      expect(operationFor({ method: route.method, path: route.path, headers: {} })?.operationId).toBe(
        route.operationId,
      );
    },
  );
});

describe('every request the client sends validates against the OpenAPI document', () => {
  let traffic: RecordedKatapultRequest[] = [];

  beforeAll(async () => {
    traffic = await recordClientTraffic();
  });

  it('covers schedule, /users/current, /organizations, get policy, list policies and restore', () => {
    expect(traffic.map((r) => operationFor(r)?.operationId)).toEqual([
      SCHEDULE_OP,
      SCHEDULE_OP,
      SCHEDULE_OP,
      SCHEDULE_OP,
      CURRENT_USER_OP,
      CURRENT_USER_OP,
      ORGANIZATIONS_OP,
      GET_POLICY_OP,
      GET_POLICY_OP,
      LIST_POLICIES_OP,
      LIST_POLICIES_OP,
      RESTORE_OP,
      RESTORE_OP,
    ]);
  });

  it('matches a documented operation and validates (path, method, query, headers, body)', () => {
    for (const request of traffic) {
      const operation = operationFor(request);
      if (!operation) throw new Error(`no operation for ${request.method} ${request.path}`);
      const result = api.validateRequest(
        {
          method: request.method.toLowerCase(),
          path: request.path,
          query: request.query,
          headers: definedHeaders(request.headers),
          body: request.body,
        },
        operation,
      );
      expect({ route: `${request.method} ${request.path}`, errors: result.errors ?? [] }).toEqual({
        route: `${request.method} ${request.path}`,
        errors: [],
      });
      expect(result.valid).toBe(true);
    }
  });

  it('meets the security requirement (Authorization: Bearer) and the content rules', () => {
    for (const request of traffic) {
      const operation = operationFor(request);
      if (!operation) throw new Error(`no operation for ${request.method} ${request.path}`);
      expect(securityProblems(operation, request.headers)).toEqual([]);
      expect(contentProblems(operation, request)).toEqual([]);
    }
  });

  it('sends lookups and paging as the documented query parameters, with no body', () => {
    const reads = traffic.filter(
      (r) => r.method === 'GET' && r.path !== '/users/current' && r.path !== '/organizations',
    );
    expect(reads.map((r) => r.query)).toEqual([
      { 'disk_backup_policy[id]': expect.stringMatching(/^dbp_[0-9A-Za-z]{16}$/) },
      { 'disk_backup_policy[id]': 'dbp_a&b=c d' },
      { 'organization[id]': ACME_ORG_ID, page: '1', per_page: '30' },
      { 'organization[id]': ACME_ORG_ID, page: '2', per_page: '10' },
    ]);
    for (const request of reads) {
      const operation = operationFor(request);
      const documented = (operation?.parameters ?? []).flatMap((p) =>
        'in' in p && p.in === 'query' ? [p.name] : [],
      );
      expect(Object.keys(request.query).filter((name) => !documented.includes(name))).toEqual([]);
      expect(request.rawBody).toBe('');
    }
  });

  it('restores by object_id in a JSON body, as documented', () => {
    const restores = traffic.filter((r) => r.path === RESTORE_PATH);
    expect(restores).toHaveLength(2);
    for (const request of restores) {
      expect(request.body).toEqual({ trash_object: { object_id: expect.stringMatching(/^dbp_/) } });
      expect(request.query).toEqual({});
    }
  });

  it('sends the timestamp as an integer of seconds, as documented', () => {
    for (const request of traffic.filter((r) => r.path === SCHEDULE_PATH)) {
      expect(request.body).toMatchObject({ timestamp: AT });
      expect(Number.isInteger(AT) && AT < 1e11).toBe(true);
    }
  });
});

describe('the contract check can fail', () => {
  const headers = {
    authorization: `Bearer ${USER_TOKEN}`,
    accept: 'application/json',
    'content-type': 'application/json',
  };
  const schedule = (body: unknown) =>
    api.validateRequest({ method: 'delete', path: SCHEDULE_PATH, query: {}, headers, body }, SCHEDULE_OP);

  it('accepts the right body', () => {
    expect(schedule({ disk_backup_policy: { id: 'dbp_1' }, timestamp: AT }).valid).toBe(true);
  });

  it.each<[string, unknown, string]>([
    [
      'timestamp as a string',
      { disk_backup_policy: { id: 'dbp_1' }, timestamp: String(AT) },
      '/requestBody/timestamp',
    ],
    [
      'a fractional timestamp',
      { disk_backup_policy: { id: 'dbp_1' }, timestamp: AT + 0.5 },
      '/requestBody/timestamp',
    ],
    ['no disk_backup_policy', { timestamp: AT }, '/requestBody'],
    ['no timestamp', { disk_backup_policy: { id: 'dbp_1' } }, '/requestBody'],
    [
      'a numeric policy id',
      { disk_backup_policy: { id: 42 }, timestamp: AT },
      '/requestBody/disk_backup_policy/id',
    ],
  ])('rejects a body with %s', (_label, body, where) => {
    const result = schedule(body);
    expect(result.valid).toBe(false);
    expect(result.errors?.map((e) => e.instancePath)).toContain(where);
  });

  it.each<[string, string, string, Record<string, string>, string]>([
    ['an unknown lookup name', GET_POLICY_OP, GET_POLICY_PATH, { id: 'dbp_1' }, '/query'],
    [
      'page 0',
      LIST_POLICIES_OP,
      LIST_POLICIES_PATH,
      { 'organization[id]': 'org_1', page: '0' },
      '/query/page',
    ],
    [
      'a page that is not a number',
      LIST_POLICIES_OP,
      LIST_POLICIES_PATH,
      { 'organization[id]': 'org_1', per_page: 'ten' },
      '/query/per_page',
    ],
  ])('rejects a read with %s', (_label, operationId, routePath, query, where) => {
    const result = api.validateRequest(
      { method: 'get', path: routePath, query, headers: { authorization: headers.authorization } },
      operationId,
    );
    expect(result.valid).toBe(false);
    expect(result.errors?.map((e) => e.instancePath)).toContain(where);
  });

  it.each<[string, unknown, string]>([
    ['trash_object as a string', { trash_object: 'dbp_1' }, '/requestBody/trash_object'],
    ['a numeric object_id', { trash_object: { object_id: 5 } }, '/requestBody/trash_object/object_id'],
    ['no trash_object', { object_id: 'dbp_1' }, '/requestBody'],
  ])('rejects a restore body with %s', (_label, body, where) => {
    const result = api.validateRequest(
      { method: 'post', path: RESTORE_PATH, query: {}, headers, body },
      RESTORE_OP,
    );
    expect(result.valid).toBe(false);
    expect(result.errors?.map((e) => e.instancePath)).toContain(where);
  });

  it('rejects a request without a bearer token', () => {
    const operation = api.getOperation(SCHEDULE_OP);
    if (!operation) throw new Error('no schedule operation');
    expect(securityProblems(operation, { accept: 'application/json' })).not.toEqual([]);
    expect(securityProblems(operation, { authorization: `Basic ${USER_TOKEN}` })).not.toEqual([]);
  });

  it('rejects an unknown method or path', () => {
    expect(operationFor({ method: 'POST', path: SCHEDULE_PATH, headers: {} })).toBeUndefined();
    expect(operationFor({ method: 'DELETE', path: `${SCHEDULE_PATH}s`, headers: {} })).toBeUndefined();
  });

  it('flags a schedule request with no body or the wrong Content-Type', () => {
    const operation = api.getOperation(SCHEDULE_OP);
    if (!operation) throw new Error('no schedule operation');
    const base: RecordedKatapultRequest = {
      method: 'DELETE',
      path: SCHEDULE_PATH,
      query: {},
      headers,
      rawBody: '',
      body: undefined,
    };
    expect(contentProblems(operation, base)).toEqual([
      'a body with disk_backup_policy, timestamp is required',
    ]);
    expect(
      contentProblems(operation, {
        ...base,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        rawBody: 'timestamp=1',
      }),
    ).toEqual(['Content-Type application/x-www-form-urlencoded is not one of application/json']);
  });
});

describe("the fake's answers and the fixtures agree with the documents", () => {
  async function get(route: string, token: string, body?: unknown) {
    const [method = 'GET', routePath = '/'] = route.split(' ');
    const init: { method: string; headers: Record<string, string>; body?: string } = {
      method,
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(`${fake.baseUrl}${routePath}`, init);
    const parsed: unknown = JSON.parse(await res.text());
    return { status: res.status, body: parsed };
  }

  it.each([
    [SCHEDULE_OP, `DELETE ${SCHEDULE_PATH}`, { disk_backup_policy: { id: 'dbp_1' }, timestamp: AT }],
    [CURRENT_USER_OP, routeKey(KATAPULT_ROUTES.getCurrentUser), undefined],
    [ORGANIZATIONS_OP, routeKey(KATAPULT_ROUTES.listOrganizations), undefined],
  ])('the default 200 of %s validates against the response schema', async (operationId, route, body) => {
    const res = await get(route, USER_TOKEN, body);
    expect(res.status).toBe(200);
    const result = api.validateResponse(res.body, operationId, 200);
    expect(result.errors ?? []).toEqual([]);
  });

  it.each([
    [GET_POLICY_OP, 0],
    [GET_POLICY_OP, 1],
  ])(
    'the default 200 of %s (catalogue policy %i) validates against the response schema',
    async (operationId, index) => {
      fake.resetPolicies();
      const policy = fake.policies()[index];
      if (!policy) throw new Error('no policy');
      const res = await get(`GET ${GET_POLICY_PATH}?disk_backup_policy%5Bid%5D=${policy.id}`, USER_TOKEN);
      expect(res.status).toBe(200);
      expect(api.validateResponse(res.body, operationId, 200).errors ?? []).toEqual([]);
    },
  );

  it('a scheduled policy (auto_move_to_trash_at set) still validates', async () => {
    fake.resetPolicies();
    const [policy] = fake.policies();
    if (!policy) throw new Error('no policy');
    await get(`DELETE ${SCHEDULE_PATH}`, USER_TOKEN, {
      disk_backup_policy: { id: policy.id },
      timestamp: AT,
    });
    const res = await get(`GET ${GET_POLICY_PATH}?disk_backup_policy%5Bid%5D=${policy.id}`, USER_TOKEN);
    expect(res.body).toMatchObject({ disk_backup_policy: { auto_move_to_trash_at: AT } });
    expect(api.validateResponse(res.body, GET_POLICY_OP, 200).errors ?? []).toEqual([]);
    fake.resetPolicies();
  });

  it.each([
    ['page 1', '?organization%5Bid%5D=ORG&page=1&per_page=30'],
    ['the last page', '?organization%5Bid%5D=ORG&page=2&per_page=30'],
    ['a page past the end', '?organization%5Bsub_domain%5D=acme-ops&page=9'],
  ])('the default 200 of the list (%s) validates against the response schema', async (_label, query) => {
    fake.resetPolicies();
    const res = await get(`GET ${LIST_POLICIES_PATH}${query.replace('ORG', ACME_ORG_ID)}`, USER_TOKEN);
    expect(res.status).toBe(200);
    expect(api.validateResponse(res.body, LIST_POLICIES_OP, 200).errors ?? []).toEqual([]);
  });

  it('the default 200 of a restore validates against the response schema', async () => {
    fake.resetPolicies();
    const [policy] = fake.policies();
    if (!policy) throw new Error('no policy');
    fake.trashPolicy(policy.id, Math.floor(NOW_MS / 1000) + 3600);
    const res = await get(`POST ${RESTORE_PATH}`, USER_TOKEN, { trash_object: { object_id: policy.id } });
    expect(res.status).toBe(200);
    expect(api.validateResponse(res.body, RESTORE_OP, 200).errors ?? []).toEqual([]);
    fake.resetPolicies();
  });

  it('a wrong 200 is rejected by the response schema', () => {
    expect(api.validateResponse({ disk_backup_policy: { id: 5 } }, SCHEDULE_OP, 200).valid).toBe(false);
    expect(api.validateResponse({ organizations: [{ id: 1 }] }, ORGANIZATIONS_OP, 200).valid).toBe(false);
    expect(
      api.validateResponse({ disk_backup_policy: { id: 'p', retention: '7' } }, GET_POLICY_OP, 200).valid,
    ).toBe(false);
    expect(
      api.validateResponse(
        { pagination: { current_page: 1 }, disk_backup_policies: [{ schedule: { interval: 'yearly' } }] },
        LIST_POLICIES_OP,
        200,
      ).valid,
    ).toBe(false);
    expect(api.validateResponse({ disk_backup_policies: [] }, LIST_POLICIES_OP, 200).valid).toBe(false);
    expect(api.validateResponse({ trash_object: { keep_until: 'soon' } }, RESTORE_OP, 200).valid).toBe(false);
  });

  it('each documented error code of the operations used has a fixture with the documented status', () => {
    const documented = new Map<string, number>();
    const operations = [
      SCHEDULE_OP,
      CURRENT_USER_OP,
      ORGANIZATIONS_OP,
      GET_POLICY_OP,
      LIST_POLICIES_OP,
      RESTORE_OP,
    ];
    for (const operationId of operations) {
      for (const [code, status] of documentedErrorCodes(operationId)) documented.set(code, status);
    }
    expect(documented.size).toBeGreaterThanOrEqual(14);
    for (const code of ['trash_object_not_found', 'organization_not_found', 'organization_suspended']) {
      expect(documented.has(code)).toBe(true);
    }
    for (const [code, status] of documented) {
      expect({ code, status: errorFixtures[code]?.status }).toEqual({ code, status });
    }
    const undocumented = allErrorFixtureCodes.filter((code) => !documented.has(code));
    expect(undocumented.filter((code) => !FRAMEWORK_CODES.has(code))).toEqual([]);
  });

  it('fixture descriptions and statuses match the native Apia schema where it defines the code', () => {
    const apia: unknown = JSON.parse(fs.readFileSync(APIA_SCHEMA_FILE, 'utf8'));
    const errors = new Map<string, { status: unknown; description: unknown }>();
    const objects = isRecord(apia) && Array.isArray(apia.objects) ? apia.objects : [];
    for (const object of objects) {
      if (isRecord(object) && object.type === 'error' && isRecord(object.value)) {
        const { code, http_status: status, description } = object.value;
        if (typeof code === 'string' && !errors.has(code)) errors.set(code, { status, description });
      }
    }
    const checked = allErrorFixtureCodes.filter((code) => errors.has(code));
    expect(checked.length).toBeGreaterThanOrEqual(14);
    for (const code of checked) {
      expect({
        code,
        status: errorFixtures[code].status,
        description: errorFixtures[code].body.error.description,
      }).toEqual({
        code,
        ...errors.get(code),
      });
    }
  });
});

describe('where the OpenAPI document and the real API differ (pinned, see FINDINGS.md)', () => {
  it('the document shows errors flat ({code,…}); the wire (and our fixtures) wrap them in {error:{…}}', () => {
    const notFound = api.getOperation(SCHEDULE_OP)?.responses?.['404'];
    const schema =
      notFound && 'content' in notFound ? notFound.content?.['application/json']?.schema : undefined;
    expect(schema && 'properties' in schema ? Object.keys(schema.properties ?? {}) : []).toEqual([
      'code',
      'description',
      'detail',
    ]);
    expect(Object.keys(errorFixtures.disk_backup_policy_not_found.body)).toEqual(['error']);
    // Because the document's error schemas have no `required`, the wrapped form still "validates".
    expect(
      api.validateResponse(errorFixtures.disk_backup_policy_not_found.body, SCHEDULE_OP, 404).valid,
    ).toBe(true);
  });

  it('only the literal path exists: the Apia route template /disk_backup_policies/<id>/schedule does not', () => {
    expect(operationFor({ method: 'DELETE', path: SCHEDULE_PATH, headers: {} })?.operationId).toBe(
      SCHEDULE_OP,
    );
    expect(
      operationFor({
        method: 'DELETE',
        path: '/disk_backup_policies/dbp_b3DMkzRt8iWqXo4s/schedule',
        headers: {},
      }),
    ).toBeUndefined();
  });

  it('the request body is not marked required, so schema validation alone accepts a bodyless DELETE', () => {
    const operation = api.getOperation(SCHEDULE_OP);
    const requestBody = operation?.requestBody;
    expect(requestBody && 'required' in requestBody ? requestBody.required : undefined).toBeUndefined();
    const result = api.validateRequest(
      { method: 'delete', path: SCHEDULE_PATH, query: {}, headers: { authorization: 'Bearer x' } },
      SCHEDULE_OP,
    );
    expect(result.valid).toBe(true); // hence contentProblems() checks the body's presence itself
  });

  it('the document models target as {target: VirtualMachine|Disk}, the wire as {type, value}', () => {
    const ok = api.getOperation(SCHEDULE_OP)?.responses?.['200'];
    const schema = ok && 'content' in ok ? ok.content?.['application/json']?.schema : undefined;
    const policy = schema && 'properties' in schema ? schema.properties?.disk_backup_policy : undefined;
    const target = findProperty(policy, 'target');
    expect(isRecord(target) && isRecord(target.properties) ? Object.keys(target.properties) : []).toEqual([
      'target',
    ]);
  });
});

describe('the read and restore operations: where the document and the wire differ (pinned)', () => {
  function okSchema(operationId: string): unknown {
    const ok = api.getOperation(operationId)?.responses?.['200'];
    return ok && 'content' in ok ? ok.content?.['application/json']?.schema : undefined;
  }

  function propertyNames(schema: unknown): string[] {
    return isRecord(schema) && isRecord(schema.properties) ? Object.keys(schema.properties) : [];
  }

  it('get and list model target as {target: VirtualMachine|Disk}; the wire (and the fake) send {type, value:{id,name}}', async () => {
    const policy = findProperty(okSchema(GET_POLICY_OP), 'disk_backup_policy');
    expect(propertyNames(findProperty(policy, 'target'))).toEqual(['target']);
    const list = findProperty(okSchema(LIST_POLICIES_OP), 'disk_backup_policies');
    const item = isRecord(list) ? list.items : undefined;
    expect(propertyNames(findProperty(item, 'target'))).toEqual(['target']);
    fake.resetPolicies();
    const [first] = fake.policies();
    const res = await fetch(`${fake.baseUrl}${GET_POLICY_PATH}?disk_backup_policy%5Bid%5D=${first?.id}`, {
      headers: { Authorization: `Bearer ${USER_TOKEN}` },
    });
    const body: unknown = JSON.parse(await res.text());
    const target =
      isRecord(body) && isRecord(body.disk_backup_policy) ? body.disk_backup_policy.target : null;
    expect(isRecord(target) ? Object.keys(target) : []).toEqual(['type', 'value']);
    // The document's target schema has no `required` and allows other keys, so the wire form "validates".
    expect(api.validateResponse(body, GET_POLICY_OP, 200).valid).toBe(true);
  });

  it('list items document no auto_move_to_trash_at (field spec id,retention,total_size,target[id,name],schedule[interval,next_invocation_at])', () => {
    const list = findProperty(okSchema(LIST_POLICIES_OP), 'disk_backup_policies');
    const item = isRecord(list) ? list.items : undefined;
    const names = isRecord(item) && typeof item.$ref !== 'string' ? propertyNames(item) : [];
    expect(names).toEqual(['id', 'retention', 'total_size', 'target', 'schedule']);
    expect(propertyNames(findProperty(item, 'schedule'))).toEqual(['interval', 'next_invocation_at']);
    expect(
      propertyNames(findProperty(findProperty(okSchema(GET_POLICY_OP), 'disk_backup_policy'), 'schedule')),
    ).toEqual(['frequency', 'interval', 'minute', 'next_invocation_at', 'time']);
  });

  it('total_size is a bare float with no unit or description anywhere in the document', () => {
    const policy = findProperty(okSchema(GET_POLICY_OP), 'disk_backup_policy');
    expect(findProperty(policy, 'total_size')).toEqual({ type: 'number', format: 'float' });
  });

  it('pagination total and total_pages are nullable (large sets), as the client expects', () => {
    const pagination = findProperty(okSchema(LIST_POLICIES_OP), 'pagination');
    expect(findProperty(pagination, 'total')).toMatchObject({ type: 'integer', nullable: true });
    expect(findProperty(pagination, 'total_pages')).toMatchObject({ type: 'integer', nullable: true });
    const largeSet = {
      pagination: { current_page: 3, total_pages: null, total: null, per_page: 30, large_set: true },
      disk_backup_policies: [],
    };
    expect(api.validateResponse(largeSet, LIST_POLICIES_OP, 200).errors ?? []).toEqual([]);
  });

  it('the restore 404 is documented flat; the fixture is wrapped like every other error', () => {
    const notFound = api.getOperation(RESTORE_OP)?.responses?.['404'];
    const schema =
      notFound && 'content' in notFound ? notFound.content?.['application/json']?.schema : undefined;
    expect(propertyNames(schema)).toEqual(['code', 'description', 'detail']);
    expect(Object.keys(errorFixtures.trash_object_not_found.body)).toEqual(['error']);
  });
});

function findProperty(schema: unknown, name: string): unknown {
  if (!isRecord(schema)) return undefined;
  if (isRecord(schema.properties) && name in schema.properties) return schema.properties[name];
  for (const key of ['allOf', 'oneOf', 'anyOf']) {
    const parts = schema[key];
    if (Array.isArray(parts)) {
      for (const part of parts) {
        const found = findProperty(part, name);
        if (found !== undefined) return found;
      }
    }
  }
  return undefined;
}

/** code → status for every error the document lists for an operation (from `code` enums in its error schemas). */
function documentedErrorCodes(operationId: string): Map<string, number> {
  const operation = api.getOperation(operationId);
  if (!operation) throw new Error(`no operation ${operationId}`);
  const out = new Map<string, number>();
  for (const [status, response] of Object.entries(operation.responses ?? {})) {
    if (status.startsWith('2') || !('content' in response)) continue;
    for (const code of codeEnums(response.content?.['application/json']?.schema))
      out.set(code, Number(status));
  }
  return out;
}

function codeEnums(schema: unknown): string[] {
  if (!isRecord(schema)) return [];
  const codes: string[] = [];
  const code = isRecord(schema.properties) ? schema.properties.code : undefined;
  if (isRecord(code) && Array.isArray(code.enum)) {
    codes.push(...code.enum.filter((v): v is string => typeof v === 'string'));
  }
  for (const key of ['oneOf', 'anyOf', 'allOf']) {
    const parts = schema[key];
    if (Array.isArray(parts)) for (const part of parts) codes.push(...codeEnums(part));
  }
  return codes;
}
