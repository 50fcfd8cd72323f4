/**
 * One logger for the bot and for Bolt: JSON lines on stdout/stderr. Every line passes through a
 * redactor that removes Slack tokens by shape and every secret registered with `redact.add`
 * (Katapult tokens, signing secret, encryption key), so a secret cannot reach a log line even by mistake.
 */
import { type Logger, LogLevel } from '@slack/bolt';
import type { LogLevelName } from './config.js';

const SLACK_TOKEN = /\bx(?:ox[abposre]|app)-[A-Za-z0-9-]+/g;
const BEARER = /\b(Bearer\s+)[^\s"',]+/gi;

const MAX_SECRETS = 2000;

export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: string | null | undefined): void {
    // Very short strings would redact ordinary words; nothing we protect is that short.
    if (!secret || secret.length < 8 || this.secrets.has(secret)) return;
    // Bounded: the oldest entries go first (deployment secrets are added first and re-added on use).
    if (this.secrets.size >= MAX_SECRETS) this.secrets.delete(this.secrets.values().next().value as string);
    this.secrets.add(secret);
    // Lines are JSON: a secret with a quote or backslash appears there escaped.
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) this.secrets.add(escaped);
  }

  apply(text: string): string {
    let out = text.replace(SLACK_TOKEN, '[redacted]').replace(BEARER, '$1[redacted]');
    for (const secret of this.secrets) out = out.split(secret).join('[redacted]');
    return out;
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
];

const ORDER: Record<LogLevelName, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (line: string, level: LogLevelName) => void;

const defaultSink: LogSink = (line, level) => {
  (level === 'error' || level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);
};

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
