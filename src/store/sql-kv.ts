/**
 * Raw reads and compare-and-set on Keyv's table (`key`, `value`: the serialized record, under the
 * namespaced key), for the SQL backends; they differ only in placeholders. The write is one
 * `UPDATE … WHERE key = … AND value = …`: SQLite runs it atomically, and PostgreSQL locks the row and
 * checks the condition again on its latest version, so of two concurrent writers over the same value
 * one wins, and a row deleted meanwhile is not written.
 */
import type { Store } from './store.js';

export function sqlKvCompareAndSet(
  query: (sql: string, values: unknown[]) => Promise<unknown[]>,
  options: {
    /** Keyv's table, schema-qualified where needed. */
    table: string;
    placeholder(n: number): string;
    /** The key as Keyv stores it (with its namespace). */
    stored(key: string): string;
  },
): Pick<Store, 'kvGetRaw' | 'kvReplaceIfUnchanged'> {
  const { table, placeholder: p, stored } = options;
  return {
    async kvGetRaw(key) {
      const rows = (await query(`SELECT value FROM ${table} WHERE key = ${p(1)}`, [stored(key)])) as {
        value: string;
      }[];
      return rows[0]?.value ?? null;
    },
    async kvReplaceIfUnchanged(key, expectedRaw, nextRaw) {
      const rows = await query(
        `UPDATE ${table} SET value = ${p(1)} WHERE key = ${p(2)} AND value = ${p(3)} RETURNING key`,
        [nextRaw, stored(key), expectedRaw],
      );
      return rows.length === 1;
    },
  };
}
