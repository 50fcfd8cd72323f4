/**
 * The store's schema version and the ordered migrations that bring a store forward. The version is
 * one record (`meta:schema_version`) in the key/value part of every backend. Migrations run on
 * start and on demand (`katapult-chatops migrate`), under a claim so that replicas starting
 * together run each one once. A migration must leave records readable by the version before it
 * (rolling deploys run both side by side), or the README's Upgrade section must say it needs a stop.
 */
import type { Store } from './store.js';

export const SCHEMA_VERSION_KEY = 'meta:schema_version';
const LOCK_KEY = 'meta:migration_lock';
const LOCK_TTL_MS = 5 * 60_000;

export interface Migration {
  /** 1, 2, 3, … in order; a store at version N has run every migration up to N. */
  version: number;
  /** What it changes, for logs and `migrate`'s output. */
  name: string;
  up(store: Store): Promise<void>;
}

/** Append only: never change or reorder a migration that has shipped. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'record the schema version (stores from before versions are already in this shape)',
    async up() {},
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;

/** 0 for a store that has never recorded one. */
export async function schemaVersion(store: Pick<Store, 'kv'>): Promise<number> {
  const value: unknown = await store.kv.get(SCHEMA_VERSION_KEY);
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

export interface MigrationResult {
  from: number;
  to: number;
  applied: string[];
  /** The store is at a version this code does not know (a newer release migrated it). */
  ahead: boolean;
}

export async function migrate(
  store: Store,
  options: { migrations?: readonly Migration[]; waitMs?: number } = {},
): Promise<MigrationResult> {
  const migrations = options.migrations ?? MIGRATIONS;
  const latest = migrations.at(-1)?.version ?? 0;
  const from = await schemaVersion(store);
  if (from >= latest) return { from, to: from, applied: [], ahead: from > latest };

  const deadline = Date.now() + (options.waitMs ?? 60_000);
  while (!(await store.claim(LOCK_KEY, LOCK_TTL_MS))) {
    // Another process is migrating: wait for it to finish, then see what is left.
    if (Date.now() > deadline) throw new Error('another process has been migrating the store for too long');
    await new Promise((resolve) => setTimeout(resolve, 250));
    if ((await schemaVersion(store)) >= latest) return { from, to: latest, applied: [], ahead: false };
  }
  const applied: string[] = [];
  try {
    let current = await schemaVersion(store);
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      await migration.up(store);
      await store.kv.set(SCHEMA_VERSION_KEY, migration.version);
      current = migration.version;
      applied.push(`${migration.version}: ${migration.name}`);
    }
    return { from, to: current, applied, ahead: false };
  } finally {
    await store.release(LOCK_KEY).catch(() => undefined);
  }
}
