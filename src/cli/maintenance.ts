/** `migrate`, `rotate-key` and `export-audit`: operator commands over the store. */
import { readWholeTrail } from '../audit/trail.js';
import type { Config } from '../config.js';
import { type Migration, migrate } from '../store/migrations.js';
import type { AuditEntry, Store } from '../store/store.js';
import { type Output, openBox, sealedRecords } from './context.js';

export async function runMigrate(
  store: Store,
  out: Output,
  migrations?: readonly Migration[],
): Promise<number> {
  const result = await migrate(store, migrations ? { migrations } : {});
  for (const step of result.applied) out.line(`applied ${step}`);
  if (result.ahead) {
    out.line(`store schema version ${result.from} is newer than this release knows; nothing done`);
    return 1;
  }
  out.line(
    result.applied.length > 0
      ? `store schema version ${result.from} -> ${result.to}`
      : `store schema version ${result.to}: up to date`,
  );
  return 0;
}

/**
 * Re-seals every sealed value with TOKEN_ENCRYPTION_KEY, opening old ones with the same key or
 * one of TOKEN_ENCRYPTION_OLD_KEYS. Values that open with none are named and left as they are.
 *
 * The bot keeps running meanwhile: each record is read as stored and written back only if it is still
 * exactly that (`kvReplaceIfUnchanged`), so a token removed or set anew, or an installation removed or
 * replaced, between the read and the write is left as it now is, never brought back or overwritten
 * with the old value. Such records are named; a second run re-seals any still sealed with an old key.
 */
export async function runRotateKey(config: Config, store: Store, out: Output): Promise<number> {
  if (!config.encryptionKey) {
    out.line(
      'rotate-key: set TOKEN_ENCRYPTION_KEY to the new key and TOKEN_ENCRYPTION_OLD_KEYS to the old one(s) (comma separated)',
    );
    return 2;
  }
  const opened = await openBox(config);
  if (!opened) return 2;
  const { box } = opened;
  let total = 0;
  let resealed = 0;
  const failed: string[] = [];
  const changed: string[] = [];
  for await (const { key } of sealedRecords(store)) {
    total += 1;
    const read = await readSealed(store, key);
    if (!read) {
      changed.push(key); // removed since it was listed
      continue;
    }
    const { raw, record, expires } = read;
    if (!box.isStale(record.sealed)) continue;
    let plaintext: string;
    try {
      plaintext = box.open(record.sealed, key);
    } catch {
      failed.push(key);
      continue;
    }
    const next = await store.kv.serializeData({
      value: { ...record, sealed: box.seal(plaintext, key) },
      expires,
    });
    if (typeof next !== 'string') throw new Error('the store does not serialize its records');
    if (await store.kvReplaceIfUnchanged(key, raw, next)) {
      resealed += 1;
    } else {
      changed.push(key);
    }
  }
  out.line(
    `rotate-key: ${resealed} re-sealed with key ${box.currentKeyId}, ${total - resealed - failed.length - changed.length} already current, ${failed.length} failed`,
  );
  if (changed.length > 0) {
    const [records, were, they] =
      changed.length === 1 ? ['record', 'was', 'it is'] : ['records', 'were', 'they are'];
    out.line(
      `rotate-key: ${changed.length} ${records} changed while rotating ${were} left as ${they} (${changed.sort().join(', ')}); run rotate-key again`,
    );
  }
  if (failed.length > 0) {
    out.line(`rotate-key: these do not open with any configured key: ${failed.join(', ')}`);
  }
  return failed.length > 0 || changed.length > 0 ? 1 : 0;
}

/** The sealed record `key` as stored now (raw, for the compare-and-set), or null when it is gone. */
async function readSealed(
  store: Store,
  key: string,
): Promise<{ raw: string; record: Record<string, unknown> & { sealed: string }; expires?: number } | null> {
  const raw = await store.kvGetRaw(key);
  if (raw === null) return null;
  const data = await store.kv.deserializeData<unknown>(raw);
  if (!data || (typeof data.expires === 'number' && data.expires < Date.now())) return null;
  const value = data.value as { sealed?: unknown } | null;
  if (typeof value !== 'object' || value === null || typeof value.sealed !== 'string') return null;
  return {
    raw,
    record: value as Record<string, unknown> & { sealed: string },
    ...(typeof data.expires === 'number' ? { expires: data.expires } : {}),
  };
}

/**
 * Audit entries as JSON lines on `out`, oldest first per workspace: everything `/katapult history`
 * shows (activity, refusals and failures with their counts, configuration and admin entries). When
 * there is none to export, one line on `err` says so and why (stdout stays empty for whatever reads
 * the JSON lines); that is not a failure: exit code 0.
 */
export async function runExportAudit(
  store: Store,
  out: Output,
  err: Output,
  options: { workspaces: string[]; sinceMs: number | null; limit: number },
): Promise<number> {
  let exported = 0;
  for (const workspace of options.workspaces) {
    const entries: AuditEntry[] = await readWholeTrail(store, workspace, { limit: options.limit });
    for (const entry of entries.reverse()) {
      if (options.sinceMs !== null && entry.at < options.sinceMs) continue;
      out.line(JSON.stringify(entry));
      exported += 1;
    }
  }
  if (exported === 0) err.line(`export-audit: nothing to export: ${nothingBecause(options)}`);
  return 0;
}

function nothingBecause(options: { workspaces: string[]; sinceMs: number | null }): string {
  if (options.workspaces.length === 0) {
    return 'no workspace found in the store or from SLACK_BOT_TOKEN (name one with --workspace)';
  }
  const since = options.sinceMs === null ? '' : ` since ${new Date(options.sinceMs).toISOString()}`;
  return `no audit entries${since} for ${options.workspaces.join(', ')}`;
}
