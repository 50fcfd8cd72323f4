/**
 * One logger for the bot and for Bolt: JSON lines on stdout/stderr. Every line passes through a
 * redactor that removes Slack tokens by shape and every secret it knows, so a secret cannot reach
 * a log line even by mistake. It knows three kinds:
 * - deployment secrets (`add`: signing secret, encryption key, fallback token…), kept for ever;
 * - workspace tokens Katapult has accepted (`remember`), one per owner, gone when replaced or removed;
 * - a token being checked (`during`), redacted from the lines of that piece of work only, so text
 *   that Katapult refuses never joins the lasting set.
 * The cost of a line does not depend on how many secrets there are: each position of the line is
 * looked up by its first characters in one index.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Logger, LogLevel } from '@slack/logger';
import type { LogLevelName } from './config.js';

// `xwfp-`: a Workflow Builder step's bot_access_token.
const SLACK_TOKEN = /\bx(?:ox[abposre]|app|wfp)-[A-Za-z0-9-]+/g;
const BEARER = /\b(Bearer\s+)[^\s"',]+/gi;
const REDACTED = '[redacted]';

/** Secrets shorter than this are not kept: they would redact ordinary words. Also the index key length. */
const MIN_SECRET = 8;
const HASH_BASE = 31;
/** HASH_BASE ** (MIN_SECRET - 1), in 32-bit arithmetic: the weight of a window's first character. */
const HASH_TOP = Array.from({ length: MIN_SECRET - 1 }).reduce<number>((h) => Math.imul(h, HASH_BASE), 1);

/** Polynomial hash (32-bit) of the MIN_SECRET characters of `text` from `at`. */
function windowHash(text: string, at: number): number {
  let hash = 0;
  for (let k = at; k < at + MIN_SECRET; k++) hash = (Math.imul(hash, HASH_BASE) + text.charCodeAt(k)) | 0;
  return hash;
}

/**
 * Lines are JSON, so a secret can only appear there as it looks inside a JSON string: a quote or a
 * backslash in it appears escaped. Matching only that form means no secret can match a line's
 * own structure (`,"level":"`), so redaction never breaks a line.
 */
const asInJson = (secret: string) => JSON.stringify(secret).slice(1, -1);

export class Redactor {
  private readonly permanent = new Set<string>();
  private readonly owners = new Map<string, string>();
  private readonly lasting = new Map<string, number>();
  /**
   * Hash of the first MIN_SECRET characters (`windowHash`) -> the secrets (JSON form) that start
   * with them, longest first (a hash shared by other characters only costs a `startsWith`).
   */
  private readonly index = new Map<number, string[]>();
  private readonly scoped = new AsyncLocalStorage<readonly string[]>();

  /** A deployment secret: redacted for the life of the process. */
  add(secret: string | null | undefined): void {
    if (!secret || secret.length < MIN_SECRET) return;
    const form = asInJson(secret);
    if (this.permanent.has(form)) return;
    this.permanent.add(form);
    if (!this.lasting.has(form)) this.indexAdd(form);
  }

  /** A secret that belongs to `owner` (e.g. a workspace's accepted token); replaces the owner's previous one. */
  remember(owner: string, secret: string): void {
    if (secret.length < MIN_SECRET) return;
    const form = asInJson(secret);
    if (this.owners.get(owner) === form) return;
    this.forget(owner);
    this.owners.set(owner, form);
    const count = this.lasting.get(form) ?? 0;
    this.lasting.set(form, count + 1);
    if (count === 0 && !this.permanent.has(form)) this.indexAdd(form);
  }

  /** The owner's secret is no longer in use (removed, or replaced elsewhere). */
  forget(owner: string): void {
    const form = this.owners.get(owner);
    if (form === undefined) return;
    this.owners.delete(owner);
    const count = (this.lasting.get(form) ?? 1) - 1;
    if (count > 0) {
      this.lasting.set(form, count);
      return;
    }
    this.lasting.delete(form);
    if (!this.permanent.has(form)) this.indexRemove(form);
  }

  /** Runs `work` with `secret` redacted from the lines it writes (and only those). */
  during<T>(secret: string, work: () => Promise<T>): Promise<T> {
    const outer = this.scoped.getStore() ?? [];
    return this.scoped.run([...outer, asInJson(secret)], work);
  }

  /** Whether `secret` is redacted from every line (for tests and diagnostics). */
  has(secret: string): boolean {
    const form = asInJson(secret);
    return this.permanent.has(form) || this.lasting.has(form);
  }

  apply(text: string): string {
    let out = this.applyIndex(text.replace(SLACK_TOKEN, REDACTED).replace(BEARER, `$1${REDACTED}`));
    for (const secret of this.scoped.getStore() ?? []) {
      if (secret.length >= MIN_SECRET) out = out.split(secret).join(REDACTED);
    }
    return out;
  }

  /**
   * Inserted in place (after the secrets at least as long), not by sorting the bucket again: secrets
   * of one shape share their first characters (every installation's bot token starts `xoxb-`), so a
   * bucket can hold thousands, and a sort per secret made 10,000 installations cost seconds of CPU.
   */
  private indexAdd(form: string): void {
    const key = windowHash(form, 0);
    const bucket = this.index.get(key);
    if (!bucket) {
      this.index.set(key, [form]);
      return;
    }
    let [low, high] = [0, bucket.length];
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((bucket[mid] as string).length >= form.length) low = mid + 1;
      else high = mid;
    }
    bucket.splice(low, 0, form);
  }

  private indexRemove(form: string): void {
    const key = windowHash(form, 0);
    const bucket = this.index.get(key) ?? [];
    const at = bucket.indexOf(form);
    if (at !== -1) bucket.splice(at, 1);
    if (bucket.length === 0) this.index.delete(key);
  }

  /**
   * One pass over the line: O(length), whatever the number of secrets (barring shared prefixes).
   * The window's hash is rolled on one character at a time: no string is made per position.
   */
  private applyIndex(text: string): string {
    if (this.index.size === 0 || text.length < MIN_SECRET) return text;
    let out = '';
    let copied = 0;
    let hash = windowHash(text, 0);
    for (let i = 0; ; ) {
      const hit = this.index.get(hash)?.find((s) => text.startsWith(s, i));
      if (hit) {
        out += text.slice(copied, i) + REDACTED;
        i += hit.length;
        copied = i;
        if (i + MIN_SECRET > text.length) break;
        hash = windowHash(text, i);
        continue;
      }
      if (i + MIN_SECRET >= text.length) break;
      hash =
        (Math.imul(hash - Math.imul(text.charCodeAt(i), HASH_TOP), HASH_BASE) +
          text.charCodeAt(i + MIN_SECRET)) |
        0;
      i++;
    }
    return copied === 0 ? text : out + text.slice(copied);
  }
}

/**
 * Debug lines in which Bolt's Socket Mode client prints whole envelopes or acks (they can hold what
 * a user typed into a modal: a Katapult token, before the redactor has seen it), and in which the
 * WebClient prints request bodies (an OAuth code and client secret). They are dropped.
 */
const PAYLOAD_DUMPS = [
  'http request body',
  'Received a message on the WebSocket',
  'Sending a WebSocket message',
  'Calling ack()',
  'ack() call begins',
  'ack() response sent',
  // Said by Bolt when its authorize step fails; the bot logs its own line instead (a refusal at most
  // once a minute per workspace, src/slack/platform/workspace-guard.ts, or authorize_failed).
  'Authorization of incoming event did not succeed',
];

const ORDER: Record<LogLevelName, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (line: string, level: LogLevelName) => void;

const defaultSink: LogSink = (line, level) => {
  (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);
};

/** The text of a thrown value for a log field or an error string: an Error's message, else the value as a string. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { error: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
    return out;
  }
  return value;
}

export interface AppLogger extends Logger {
  /** One structured line: `event` names what happened, `fields` are flat, secret-free values. */
  event(level: LogLevelName, event: string, fields?: Record<string, unknown>): void;
}

export function createLogger(options: {
  level: LogLevelName;
  redactor: Redactor;
  sink?: LogSink;
  name?: string;
}): AppLogger {
  let level: LogLevelName = options.level;
  let name = options.name ?? 'katapult-chatops';
  const sink = options.sink ?? defaultSink;

  const write = (lvl: LogLevelName, record: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level: lvl, name, ...record });
    } catch {
      line = JSON.stringify({
        time: new Date().toISOString(),
        level: lvl,
        name,
        msg: '[unserializable log record]',
      });
    }
    sink(options.redactor.apply(line), lvl);
  };

  const plain =
    (lvl: LogLevelName) =>
    (...msg: unknown[]) => {
      // Bolt and the Web client call debug() many times per request: drop those before any work.
      if (ORDER[lvl] < ORDER[level]) return;
      if (typeof msg[0] === 'string' && PAYLOAD_DUMPS.some((p) => (msg[0] as string).includes(p))) return;
      const parts = msg.map(describe);
      const text = parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
      write(lvl, { msg: text });
    };

  return {
    debug: plain('debug'),
    info: plain('info'),
    warn: plain('warn'),
    error: plain('error'),
    event: (lvl, event, fields = {}) => write(lvl, { event, ...fields }),
    setLevel: (l: LogLevel) => {
      level = l as LogLevelName;
    },
    getLevel: () => level as LogLevel,
    setName: (n: string) => {
      name = n;
    },
  };
}

export { LogLevel };
