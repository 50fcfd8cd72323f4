/**
 * The deploy kit (Dockerfile, .dockerignore, compose.yaml, deploy/kubernetes, deploy/prometheus)
 * agrees with the code: every port, probe path, environment variable, secret and metric they name
 * exists in src/ and in .env.example, the shutdown grace of every orchestrator exceeds the bot's,
 * the stop figures the docs quote are the code's, every alert has a runbook entry in
 * docs/operations.md, and the image runs `node dist/main.js` as a non-root user. No Docker engine or
 * cluster is needed: the files are parsed here (a small YAML reader for the block style these files
 * use).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { shutdownGraceMs, stopBudgetMs } from '../../src/app.js';

const read = (file: string): string => readFileSync(file, 'utf8');

// --- A small YAML reader --------------------------------------------------------------------------
// Block mappings and sequences, plain and quoted scalars, flow sequences of scalars, `|`/`>` block
// scalars, comments, `---` documents, and `&anchor` / `<<: *anchor` merges. Anything else throws,
// so a file that outgrows it fails loudly instead of being misread.

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };
type YamlMap = { [key: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  no: number;
}

function stripComment(text: string): string {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || text[i - 1] === ' ')) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text.trimEnd();
}

function splitFlow(inner: string): string[] {
  const parts: string[] = [];
  let quote: string | null = null;
  let current = '';
  for (const c of inner) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ',') {
      parts.push(current.trim());
      current = '';
      continue;
    } else if (c === '[' || c === '{') {
      throw new Error(`nested flow collections are not supported: [${inner}]`);
    }
    current += c;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

function scalar(raw: string): Yaml {
  const s = raw.trim();
  if (s.startsWith('"')) return JSON.parse(s) as string;
  if (s.startsWith("'")) return s.slice(1, -1).replaceAll("''", "'");
  if (s === '[]') return [];
  if (s === '{}') return {};
  if (s.startsWith('[')) return splitFlow(s.slice(1, -1)).map(scalar);
  if (/^[{&*!|>]/.test(s)) throw new Error(`unsupported YAML value: ${s}`);
  if (s === '' || s === '~' || s === 'null') return null;
  if (s === 'true' || s === 'false') return s === 'true';
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  return s;
}

class YamlReader {
  private readonly lines: Line[];
  private readonly raw: string[];
  private i = 0;
  private readonly anchors = new Map<string, Yaml>();

  constructor(text: string) {
    this.raw = text.split('\n');
    this.lines = this.raw
      .map((line, no) => ({
        indent: line.length - line.trimStart().length,
        text: stripComment(line).trim(),
        no,
      }))
      .filter((l) => l.text !== '');
  }

  read(): Yaml {
    if (this.lines.length === 0) return null;
    const value = this.block(this.lines[0]?.indent ?? 0);
    const rest = this.lines[this.i];
    if (rest) throw new Error(`unexpected line ${rest.no + 1}: ${rest.text}`);
    return value;
  }

  private block(indent: number): Yaml {
    const first = this.lines[this.i];
    if (!first || first.indent < indent) return null;
    return first.text === '-' || first.text.startsWith('- ')
      ? this.sequence(first.indent)
      : this.mapping(first.indent);
  }

  private sequence(indent: number): Yaml[] {
    const items: Yaml[] = [];
    for (let line = this.lines[this.i]; line && line.indent === indent; line = this.lines[this.i]) {
      if (!(line.text === '-' || line.text.startsWith('- '))) break;
      const rest = line.text.slice(1).trimStart();
      if (rest === '') {
        this.i++;
        items.push(this.block(indent + 1));
      } else if (/^[^"'[{][^:]*:(\s|$)/.test(rest) || /^["'][^"']*["']:(\s|$)/.test(rest)) {
        // "- key: value": a mapping whose keys line up with the text after the dash.
        this.lines[this.i] = { indent: indent + (line.text.length - rest.length), text: rest, no: line.no };
        items.push(this.mapping(this.lines[this.i]?.indent ?? 0));
      } else {
        this.i++;
        items.push(scalar(rest));
      }
    }
    return items;
  }

  private mapping(indent: number): YamlMap {
    const map: YamlMap = {};
    for (let line = this.lines[this.i]; line && line.indent === indent; line = this.lines[this.i]) {
      const m = /^("[^"]*"|'[^']*'|[^\s"'][^:]*?):(?:\s+(.*))?$/.exec(line.text);
      if (!m) throw new Error(`expected "key: value" at line ${line.no + 1}: ${line.text}`);
      const key = String(scalar(m[1] ?? ''));
      let value = (m[2] ?? '').trim();
      this.i++;
      const anchor = /^&([\w-]+)\s*/.exec(value);
      if (anchor) value = value.slice(anchor[0].length);
      let result: Yaml;
      if (value.startsWith('*')) {
        const name = value.slice(1);
        if (!this.anchors.has(name)) throw new Error(`unknown alias *${name} at line ${line.no + 1}`);
        result = this.anchors.get(name) ?? null;
      } else if (/^[|>][-+]?$/.test(value)) {
        result = this.blockScalar(indent, line.no, value);
      } else if (value === '') {
        const next = this.lines[this.i];
        const nested =
          next && (next.indent > indent || (next.indent === indent && next.text.startsWith('- ')));
        result = nested ? this.block(next.indent) : null;
      } else {
        result = scalar(value);
      }
      if (anchor?.[1]) this.anchors.set(anchor[1], result);
      if (key === '<<') {
        if (typeof result !== 'object' || result === null || Array.isArray(result)) {
          throw new Error(`merge key needs a mapping at line ${line.no + 1}`);
        }
        for (const [k, v] of Object.entries(result)) if (!(k in map)) map[k] = v;
      } else {
        map[key] = result;
      }
    }
    return map;
  }

  /** `|` keeps newlines, `>` folds them into spaces; `-` drops the final newline. */
  private blockScalar(parentIndent: number, headerNo: number, header: string): string {
    const body: string[] = [];
    let no = headerNo + 1;
    for (; no < this.raw.length; no++) {
      const rawLine = this.raw[no] ?? '';
      if (rawLine.trim() !== '' && rawLine.length - rawLine.trimStart().length <= parentIndent) break;
      body.push(rawLine);
    }
    while (body.length > 0 && body[body.length - 1]?.trim() === '') body.pop();
    while (this.lines[this.i] && (this.lines[this.i]?.no ?? 0) < no) this.i++;
    const cut = Math.min(...body.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
    const lines = body.map((l) => l.slice(cut));
    const text = header.startsWith('>') ? lines.join(' ') : lines.join('\n');
    return header.endsWith('-') ? text : `${text}\n`;
  }
}

function parseYaml(text: string): Yaml[] {
  return text
    .split(/^---\s*$/m)
    .map((doc) => new YamlReader(doc).read())
    .filter((doc) => doc !== null);
}

// --- Typed access -----------------------------------------------------------------------------------

function asMap(value: Yaml | undefined, what: string): YamlMap {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what}: expected a mapping, got ${JSON.stringify(value)}`);
  }
  return value;
}

function asList(value: Yaml | undefined, what: string): Yaml[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list, got ${JSON.stringify(value)}`);
  return value;
}

function at(value: Yaml | undefined, path: string): Yaml | undefined {
  let current: Yaml | undefined = value;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = current[part];
  }
  return current;
}

// --- What the code says -------------------------------------------------------------------------------

const configSource = read('src/config.ts');
/** The environment variables src/config.ts reads: `(env, 'NAME'`, `env.NAME` and `env['NAME']`. */
const configVars = new Set(
  [
    ...configSource.matchAll(/\(\s*env\s*,\s*['"]([A-Z][A-Z0-9_]*)['"]/g),
    ...configSource.matchAll(/\benv(?:\.|\[['"])([A-Z][A-Z0-9_]*)/g),
  ].map((m) => m[1] ?? ''),
);
/** Every NAME= line of .env.example, set or commented out. */
const envExampleVars = new Set(
  [...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? ''),
);
/** Literal default of a whole-number setting in config.ts: `integer(env, 'PORT', 3000, …)`. */
function configDefault(name: string): number {
  const m = new RegExp(`\\(\\s*env\\s*,\\s*'${name}'\\s*,\\s*([\\d_]+)`).exec(configSource);
  if (!m?.[1]) throw new Error(`no numeric default for ${name} in src/config.ts`);
  return Number(m[1].replaceAll('_', ''));
}

const srcFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? srcFiles(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : [],
  );
const allSource = srcFiles('src')
  .map((f) => read(f))
  .join('\n');

/**
 * The runtime side of issue 12 (health server in both modes, metrics, CLI, key rotation) is built in
 * parallel with this kit. Until it is merged, src/metrics.ts is absent and the names it brings are
 * reported as skipped instead of failing; once it exists, every check below is strict.
 */
const runtimeMerged = existsSync('src/metrics.ts');
const RUNTIME_NAMES = new Set(['METRICS_PORT', 'TOKEN_ENCRYPTION_OLD_KEYS', '/readyz', '/metrics']);
const warned = new Set<string>();
function pendingRuntime(name: string): boolean {
  if (runtimeMerged || !RUNTIME_NAMES.has(name)) return false;
  if (!warned.has(name)) {
    warned.add(name);
    console.warn(
      `SKIPPED: ${name} is not checked against src/ until src/metrics.ts (issue 12 runtime) exists`,
    );
  }
  return true;
}

function expectReadByConfig(name: string, where: string): void {
  expect({ where, name, inEnvExample: envExampleVars.has(name) || pendingRuntime(name) }).toEqual({
    where,
    name,
    inEnvExample: true,
  });
  expect({ where, name, readBySrcConfig: configVars.has(name) || pendingRuntime(name) }).toEqual({
    where,
    name,
    readBySrcConfig: true,
  });
}

function expectRouteInSource(path: string, where: string): void {
  expect({ where, path, inSrc: allSource.includes(`'${path}'`) || pendingRuntime(path) }).toEqual({
    where,
    path,
    inSrc: true,
  });
}

/** The Katapult timeout the deployment sets (or the default), which both stop figures depend on. */
const katapultTimeoutOf = (env: Record<string, string>) =>
  Number(env.KATAPULT_TIMEOUT_MS ?? configDefault('KATAPULT_TIMEOUT_MS'));

/** The bot's shutdown grace (the drain) in seconds, from the function Bot.stop uses (src/app.ts). */
const shutdownGraceSeconds = (env: Record<string, string>) => shutdownGraceMs(katapultTimeoutOf(env)) / 1000;

/** The whole stop: the drain plus the bounded store close. An orchestrator must wait longer. */
const stopBudgetSeconds = (env: Record<string, string>) => stopBudgetMs(katapultTimeoutOf(env)) / 1000;

const CONFIG_PORT_DEFAULT = configDefault('PORT');

/** Secrets: never a literal value in a deploy file; in Kubernetes always from a Secret. */
const SECRET_VARS = [
  'SLACK_SIGNING_SECRET',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_CLIENT_SECRET',
  'SLACK_STATE_SECRET',
  'KATAPULT_API_TOKEN',
  'TOKEN_ENCRYPTION_KEY',
  'TOKEN_ENCRYPTION_OLD_KEYS',
  'STORE_URL',
];
/** Variables of other programs' images that the deploy files may name (never read by the bot). */
const FOREIGN_VARS = new Set(['POSTGRES_USER', 'POSTGRES_DB', 'POSTGRES_PASSWORD']);

// --- The reader itself ------------------------------------------------------------------------------

describe('the small YAML reader', () => {
  test('reads the constructs the deploy files use', () => {
    const [doc, second] = parseYaml(
      [
        'base: &b',
        '  a: 1',
        '  list: ["x", \'y\', z]',
        'top:',
        '  <<: *b',
        '  a: 2 # comment',
        '  items:',
        '    - name: one',
        '      value: "3000"',
        '    - plain',
        '  text: |',
        '    line one',
        '      indented',
        '  folded: >-',
        '    a',
        '    b',
        'flag: true',
        '---',
        'k: v',
      ].join('\n'),
    );
    expect(doc).toEqual({
      base: { a: 1, list: ['x', 'y', 'z'] },
      top: {
        a: 2,
        list: ['x', 'y', 'z'],
        items: [{ name: 'one', value: '3000' }, 'plain'],
        text: 'line one\n  indented\n',
        folded: 'a b',
      },
      flag: true,
    });
    expect(second).toEqual({ k: 'v' });
  });

  test('throws on what it does not understand', () => {
    expect(() => parseYaml('a: {b: 1}')).toThrow(/unsupported/);
    expect(() => parseYaml('a: *nowhere')).toThrow(/unknown alias/);
  });

  test('reads the environment variables of src/config.ts', () => {
    for (const name of ['PORT', 'STORE_URL', 'TOKEN_ENCRYPTION_KEY', 'SLACK_BOT_TOKEN']) {
      expect(configVars.has(name)).toBe(true);
    }
    expect(CONFIG_PORT_DEFAULT).toBe(3000);
  });
});

// --- Dockerfile and .dockerignore -------------------------------------------------------------------

describe('Dockerfile', () => {
  const instructions = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
  const stages: { from: string; name: string; body: { op: string; args: string }[] }[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const [image = '', , name = ''] = ins.args.split(/\s+/);
      stages.push({ from: image, name, body: [] });
    } else {
      stages[stages.length - 1]?.body.push(ins);
    }
  }
  const runtime = stages[stages.length - 1];
  const ops = (op: string) => runtime?.body.filter((i) => i.op === op).map((i) => i.args) ?? [];

  test('builds in one stage and runs on Node 22 LTS slim in the last', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages[0];
    expect(build?.body.some((i) => i.op === 'RUN' && /npm ci\b/.test(i.args))).toBe(true);
    expect(build?.body.some((i) => i.op === 'RUN' && /npm run build/.test(i.args))).toBe(true);
    expect(runtime?.from).toMatch(/^node:22(\.[\d.]+)?-bookworm-slim$/);
    // No dev dependencies at run time: node_modules comes pruned from the build, or `npm ci --omit=dev`.
    for (const run of ops('RUN')) {
      if (/npm (ci|install)\b/.test(run)) expect(run).toContain('--omit=dev');
    }
    const copiesModules = ops('COPY').some(
      (c) => c.startsWith(`--from=${build?.name}`) && c.includes('node_modules'),
    );
    if (copiesModules) {
      expect(build?.body.some((i) => i.op === 'RUN' && /npm prune --omit=dev/.test(i.args))).toBe(true);
    }
  });

  test('runs `node dist/main.js` as a non-root user', () => {
    const user = ops('USER').at(-1);
    expect(user).toBeDefined();
    expect(user?.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(ops('CMD').at(-1)).toBe('["node", "dist/main.js"]');
    expect(ops('ENTRYPOINT')).toEqual([]);
  });

  test('health check asks /healthz on PORT with node (no curl in slim)', () => {
    const check = ops('HEALTHCHECK').at(-1) ?? '';
    expect(check).toContain('/healthz');
    expect(check).toMatch(/CMD \["node"/);
    expect(check).not.toMatch(/curl|wget/);
    expectRouteInSource('/healthz', 'Dockerfile HEALTHCHECK');
    expect(check).toContain(`process.env.PORT || ${CONFIG_PORT_DEFAULT}`);
    expect(ops('EXPOSE')).toContain(String(CONFIG_PORT_DEFAULT));
  });

  test('every ENV it sets is read by src/config.ts and listed in .env.example', () => {
    const names = stages.flatMap((s) =>
      s.body.filter((i) => i.op === 'ENV').map((i) => i.args.split('=')[0] ?? ''),
    );
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expectReadByConfig(name, 'Dockerfile ENV');
  });

  test('.dockerignore lets through every file the Dockerfile copies, and no .env', () => {
    const lines = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines[0]).toBe('*');
    const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = stages
      .flatMap((s) => s.body)
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source, allowed: allowed.includes(source.replace(/\/$/, '')) }).toEqual({
        source,
        allowed: true,
      });
      expect(existsSync(source)).toBe(true);
    }
    expect(allowed.some((a) => a.includes('.env'))).toBe(false);
  });
});

// --- compose.yaml -------------------------------------------------------------------------------------

describe('compose.yaml', () => {
  const compose = asMap(parseYaml(read('compose.yaml'))[0], 'compose.yaml');
  const services = asMap(compose.services, 'services');
  const bots = Object.entries(services).filter(([, s]) => at(s, 'build') !== undefined);

  test('runs the bot on PostgreSQL by default and on Redis (AOF, noeviction) in a profile, with volumes', () => {
    expect(bots.map(([name]) => name).sort()).toEqual(['bot', 'bot-redis']);
    const postgres = asMap(services.postgres, 'postgres');
    const redis = asMap(services.redis, 'redis');
    expect(postgres.profiles).toBeUndefined();
    expect(String(at(services.bot, 'environment.STORE_URL'))).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    expect(at(services['bot-redis'], 'environment.STORE_URL')).toBe('redis://redis:6379');
    expect(redis.profiles).toEqual(['redis']);
    expect(at(services['bot-redis'], 'profiles')).toEqual(['redis']);
    const command = asList(redis.command, 'redis.command').map(String);
    expect(command.join(' ')).toContain('--appendonly yes');
    expect(command.join(' ')).toContain('--maxmemory-policy noeviction');
    const volumes = Object.keys(asMap(compose.volumes, 'volumes'));
    for (const [svc, mount] of [
      [postgres, '/var/lib/postgresql/data'],
      [redis, '/data'],
    ] as const) {
      const named = asList(svc.volumes, 'volumes').map(String);
      expect(named.some((v) => v.endsWith(`:${mount}`) && volumes.includes(v.split(':')[0] ?? ''))).toBe(
        true,
      );
    }
    for (const [name] of bots) {
      const dependsOn = Object.keys(asMap(at(services[name], 'depends_on'), `${name}.depends_on`));
      for (const dep of dependsOn) expect(at(services[dep], 'healthcheck.test')).toBeDefined();
    }
  });

  test.each(['bot', 'bot-redis'])('%s: env vars, port and stop grace agree with the code', (name) => {
    const bot = asMap(services[name], name);
    const env = asMap(bot.environment, `${name}.environment`);
    for (const key of Object.keys(env)) expectReadByConfig(key, `compose.yaml ${name}.environment`);
    for (const secret of SECRET_VARS.filter((s) => s in env)) {
      // A literal secret in the file would be committed: only interpolations from .env are allowed.
      const value = String(env[secret]);
      if (secret === 'STORE_URL') expect(value).not.toMatch(/:\/\/[^:@/]+:(?!\$\{)[^@]*@/);
      else expect(value).toMatch(/^\$\{[A-Z_]+\}$/);
    }
    const port = Number(env.PORT ?? CONFIG_PORT_DEFAULT);
    const mapped = asList(bot.ports, `${name}.ports`).map((p) => Number(String(p).split(':').at(-1)));
    expect(mapped).toContain(port);
    // /metrics is served on METRICS_PORT, never on the port that receives Slack's requests, and that
    // port is published on the host's loopback only.
    const metricsPort = Number(env.METRICS_PORT);
    expect(metricsPort).toBeGreaterThan(0);
    expect(metricsPort).not.toBe(port);
    const published = asList(bot.ports, `${name}.ports`).map(String);
    expect(published).toContain(`127.0.0.1:${metricsPort}:${metricsPort}`);
    expect(bot.env_file).toBe('.env');
    const grace = /^(\d+)s$/.exec(String(bot.stop_grace_period));
    expect(grace).not.toBeNull();
    expect(Number(grace?.[1])).toBeGreaterThan(stopBudgetSeconds({}));
  });

  test('every variable it interpolates is a bot setting or a database image setting', () => {
    const names = [...read('compose.yaml').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] ?? '');
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      if (FOREIGN_VARS.has(name)) {
        expect(configVars.has(name)).toBe(false);
      } else {
        expectReadByConfig(name, 'compose.yaml interpolation');
      }
    }
  });
});

// --- Kubernetes ---------------------------------------------------------------------------------------

describe('deploy/kubernetes', () => {
  const dir = 'deploy/kubernetes';
  const docsOf = (file: string) => parseYaml(read(`${dir}/${file}`)).map((d) => asMap(d, file));
  const kustomization = docsOf('kustomization.yaml')[0] ?? {};
  const resources = asList(kustomization.resources, 'resources').map(String);
  const objects = resources.flatMap(docsOf);
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const deployment = byKind('Deployment')[0] ?? {};
  const pod = asMap(at(deployment, 'spec.template.spec'), 'pod spec');
  const containers = asList(pod.containers, 'containers').map((c) => asMap(c, 'container'));
  const secret = docsOf('secret.example.yaml')[0] ?? {};
  const secretName = String(at(secret, 'metadata.name'));
  const secretData = asMap(secret.stringData, 'stringData');

  test('kustomization lists files that exist, and not the Secret example', () => {
    for (const file of resources) expect(existsSync(`${dir}/${file}`)).toBe(true);
    expect(resources).not.toContain('secret.example.yaml');
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'Deployment',
      'Namespace',
      'PodDisruptionBudget',
      'Service',
    ]);
    for (const o of objects) expect(o.apiVersion).toBeDefined();
  });

  test('Deployment: 2 replicas, rolling with no unavailable replica, non-root', () => {
    expect(at(deployment, 'spec.replicas')).toBe(2);
    expect(at(deployment, 'spec.strategy.rollingUpdate.maxUnavailable')).toBe(0);
    expect(at(pod, 'securityContext.runAsNonRoot')).toBe(true);
    expect(Number(at(pod, 'securityContext.runAsUser'))).toBeGreaterThan(0);
  });

  test.each(containers.map((c) => [String(c.name), c] as const))(
    'container %s: env vars and secrets',
    (_name, c) => {
      const env = asList(c.env, 'env').map((e) => asMap(e, 'env entry'));
      const names = env.map((e) => String(e.name));
      for (const name of names) expectReadByConfig(name, `${dir} env`);
      for (const name of SECRET_VARS) {
        const entry = env.find((e) => e.name === name);
        expect({ name, fromSecret: at(entry, 'valueFrom.secretKeyRef.name') }).toEqual({
          name,
          fromSecret: secretName,
        });
        expect(at(entry, 'value')).toBeUndefined();
        const key = String(at(entry, 'valueFrom.secretKeyRef.key'));
        expect({ name, keyInExample: key in secretData }).toEqual({ name, keyInExample: true });
      }
      for (const key of Object.keys(secretData)) expectReadByConfig(key, 'secret.example.yaml');
    },
  );

  test.each(containers.map((c) => [String(c.name), c] as const))(
    'container %s: ports and probes',
    (_name, c) => {
      const env = Object.fromEntries(
        asList(c.env, 'env')
          .map((e) => asMap(e, 'env entry'))
          .filter((e) => e.value !== undefined)
          .map((e) => [String(e.name), String(e.value)]),
      );
      const appPort = Number(env.PORT ?? CONFIG_PORT_DEFAULT);
      const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : appPort;
      const ports = new Map(
        asList(c.ports, 'ports').map((p) => [String(at(p, 'name')), Number(at(p, 'containerPort'))] as const),
      );
      expect(ports.get('http')).toBe(appPort);
      if (env.METRICS_PORT) expect(ports.get('metrics')).toBe(metricsPort);
      const probe = (kind: string) => {
        const get = asMap(at(c, `${kind}.httpGet`), `${kind}.httpGet`);
        const port = typeof get.port === 'number' ? get.port : ports.get(String(get.port));
        return { path: String(get.path), port };
      };
      expect(probe('livenessProbe')).toEqual({ path: '/healthz', port: appPort });
      expect(probe('startupProbe')).toEqual({ path: '/healthz', port: appPort });
      // /readyz moves to METRICS_PORT when that is set.
      expect(probe('readinessProbe')).toEqual({ path: '/readyz', port: metricsPort });
      expectRouteInSource('/healthz', 'livenessProbe');
      expectRouteInSource('/readyz', 'readinessProbe');
      const scrape = asMap(at(deployment, 'spec.template.metadata.annotations'), 'pod annotations');
      expect(scrape['prometheus.io/port']).toBe(String(metricsPort));
      expectRouteInSource(String(scrape['prometheus.io/path']), 'prometheus.io/path');
    },
  );

  test('terminationGracePeriodSeconds exceeds preStop plus the whole stop (drain and store close)', () => {
    const c = containers[0] ?? {};
    const env = Object.fromEntries(
      asList(c.env, 'env')
        .map((e) => asMap(e, 'env entry'))
        .filter((e) => e.value !== undefined)
        .map((e) => [String(e.name), String(e.value)]),
    );
    const preStop = asList(at(c, 'lifecycle.preStop.exec.command') ?? [], 'preStop').map(String);
    const preStopSeconds = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
    expect(shutdownGraceSeconds(env)).toBeGreaterThanOrEqual(30);
    expect(Number(pod.terminationGracePeriodSeconds)).toBeGreaterThan(
      preStopSeconds + stopBudgetSeconds(env),
    );
  });

  test('memory request covers the peak RSS in docs/benchmarks.md; no CPU limit', () => {
    const peak = /peak RSS, whole run \(MB\)\s*\|\s*([\d.]+)/.exec(read('docs/benchmarks.md'));
    expect(peak?.[1]).toBeDefined();
    const c = containers[0] ?? {};
    const mi = (v: Yaml | undefined) => Number(/^(\d+)Mi$/.exec(String(v))?.[1]);
    const requestMb = mi(at(c, 'resources.requests.memory')) * 1.048576;
    expect(requestMb).toBeGreaterThan(Number(peak?.[1]));
    expect(mi(at(c, 'resources.limits.memory'))).toBeGreaterThan(mi(at(c, 'resources.requests.memory')));
    expect(at(c, 'resources.requests.cpu')).toBeDefined();
    expect(at(c, 'resources.limits.cpu')).toBeUndefined();
  });

  test('the stop figures the docs and the deploy files quote are the ones Bot.stop uses', () => {
    const grace = `${shutdownGraceSeconds({})} s`;
    const stop = `${stopBudgetSeconds({})} s`;
    const deployDoc = read('docs/deploy.md');
    expect(deployDoc).toContain(`drains for up to ${grace}`);
    expect(deployDoc).toContain(`= ${grace} by default`);
    expect(deployDoc).toContain(`within ${stop} of SIGTERM by default`);
    expect(read('README.md')).toContain(`within ${stop} of SIGTERM by default`);
    const reliability = read('docs/reliability.md');
    expect(reliability).toContain(`which is ${grace} with the defaults`);
    expect(reliability).toContain(`at most ${stop} with the defaults`);
    expect(read('Dockerfile')).toContain(`up to ${grace} by default`);
    expect(read('compose.yaml')).toContain(`= ${grace} by default`);
    expect(read(`${dir}/deployment.yaml`)).toContain(`= ${grace}`);
  });

  test('Service and PodDisruptionBudget select the pods; Service targets named container ports', () => {
    const podLabels = asMap(at(deployment, 'spec.template.metadata.labels'), 'pod labels');
    const matches = (selector: Yaml | undefined) =>
      Object.entries(asMap(selector, 'selector')).every(([k, v]) => podLabels[k] === v);
    const service = byKind('Service')[0];
    const pdb = byKind('PodDisruptionBudget')[0];
    expect(matches(at(service, 'spec.selector'))).toBe(true);
    expect(matches(at(pdb, 'spec.selector.matchLabels'))).toBe(true);
    expect(at(pdb, 'spec.minAvailable')).toBe(1);
    const portNames = containers.flatMap((c) => asList(c.ports, 'ports').map((p) => String(at(p, 'name'))));
    for (const p of asList(at(service, 'spec.ports'), 'service ports')) {
      expect(portNames).toContain(String(at(p, 'targetPort')));
    }
  });

  test('the Secret example holds placeholders only', () => {
    expect(secret.kind).toBe('Secret');
    for (const [key, value] of Object.entries(secretData)) {
      const v = String(value);
      const placeholder = v === '' || /REPLACE_ME|your-bot-token|your-app-token/.test(v);
      expect({ key, placeholder }).toEqual({ key, placeholder: true });
    }
  });
});

// --- Prometheus alerts ----------------------------------------------------------------------------------

describe('deploy/prometheus/alerts.yml', () => {
  const file = asMap(parseYaml(read('deploy/prometheus/alerts.yml'))[0], 'alerts.yml');
  const rules = asList(file.groups, 'groups').flatMap((g) =>
    asList(at(g, 'rules'), 'rules').map((r) => asMap(r, 'rule')),
  );
  /** The runbook: one `### <AlertName>` heading per alert, whose anchor is the name in lower case. */
  const RUNBOOK = 'docs/operations.md';
  const runbook = read(RUNBOOK);

  test('covers Katapult failures, Slack errors, store errors, DM fallbacks and waiting requests', () => {
    const exprs = rules.map((r) => String(r.expr)).join('\n');
    for (const metric of [
      'katapult_chatops_katapult_requests_total',
      'katapult_chatops_slack_api_errors_total',
      'katapult_chatops_store_errors_total',
      'katapult_chatops_dm_fallbacks_total',
      'katapult_chatops_requests_oldest_pending_age_seconds',
    ]) {
      expect(exprs).toContain(metric);
    }
  });

  test.each(rules.map((r) => [String(r.alert), r] as const))(
    '%s has severity, summary and a runbook entry in docs/operations.md',
    (alert, rule) => {
      expect(alert).toMatch(/^KatapultChatops[A-Za-z]+$/);
      expect(at(rule, 'labels.severity')).toMatch(/^(critical|warning|info)$/);
      expect(at(rule, 'annotations.summary')).toEqual(expect.any(String));
      expect(at(rule, 'annotations.runbook_url')).toBe(`${RUNBOOK}#${alert.toLowerCase()}`);
      const entry = new RegExp(`^### ${alert}$`, 'm').test(runbook);
      expect({ alert, runbookEntry: entry }).toEqual({ alert, runbookEntry: true });
      // No per-workspace or per-user label in any rule.
      expect(String(rule.expr)).not.toMatch(/workspace|team_id|user/);
    },
  );

  test('every outcome value an alert matches is a name the code uses', () => {
    const values = rules.flatMap((r) =>
      [...String(r.expr).matchAll(/outcome=~?"([^"]+)"/g)].flatMap((m) => (m[1] ?? '').split('|')),
    );
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) {
      expect({ value, inSrc: allSource.includes(`'${value}'`) }).toEqual({ value, inSrc: true });
    }
  });

  test('every metric an alert names is defined in src/metrics.ts', () => {
    const names = new Set(
      rules.flatMap((r) =>
        [...String(r.expr).matchAll(/\b(katapult_chatops_[a-z_]+)/g)].map((m) =>
          (m[1] ?? '').replace(/_(bucket|sum|count)$/, ''),
        ),
      ),
    );
    expect(names.size).toBeGreaterThanOrEqual(6);
    if (!runtimeMerged) {
      console.warn(
        `SKIPPED: src/metrics.ts does not exist yet (issue 12 runtime); not checked: ${[...names].join(', ')}`,
      );
      return;
    }
    const metrics = read('src/metrics.ts');
    // The full name, or its suffix when the file builds names from a 'katapult_chatops_' prefix.
    const defined = (name: string) =>
      metrics.includes(name) ||
      (metrics.includes('katapult_chatops_') && metrics.includes(name.replace(/^katapult_chatops_/, '')));
    for (const name of names) expect({ name, defined: defined(name) }).toEqual({ name, defined: true });
  });
});
