/**
 * Stores no other run can see, for suites whose bots would otherwise meet another run's records on
 * a shared server (a sweep takes over every abandoned request in its store, whatever its workspace).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { scratchRedis } from '../../support/scratch-redis.js';
import { type ServiceKind, serviceUrl } from './services.js';

export type Kind = ServiceKind | 'sqlite';

/**
 * A store no other run can see. The bots sweep every abandoned request in their store, whatever
 * its workspace: a bot of another run on the same server (another worktree, another CI job)
 * would take this run's request over once its process is killed, ask its own fake Slack about
 * the user, and refuse it as being from another workspace. Redis: one of the databases 1-14 that
 * this run claims and empties at the end (support/scratch-redis.ts); PostgreSQL: a database of this
 * suite's own, dropped at the end.
 */
export async function privateStore(kind: Kind, dir: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') return { url: `sqlite://${path.join(dir, 'bot.sqlite')}`, drop: async () => {} };
  const url = new URL(serviceUrl(kind));
  if (kind === 'redis') return scratchRedis(url.toString());
  const database = `katapult_crash_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serviceUrl(kind) });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    async drop() {
      const db = new pg.Client({ connectionString: serviceUrl(kind) });
      await db.connect();
      try {
        await db.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      } finally {
        await db.end();
      }
    },
  };
}
