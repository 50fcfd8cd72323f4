/**
 * Documents with a lease: the store's primitive for records that more than one replica may work on
 * (the request log), for indexes that must be listed (upcoming deletions) and for owned locks.
 *
 * A document lives in a collection, has a key, a partition (the workspace) and a numeric sort value
 * (a time), is `active` or not, and carries an opaque JSON body. A lease (owner + expiry) is taken
 * with the backend's own atomic primitive and judged by the store's clock where it has one
 * (PostgreSQL's and Redis's; SQLite runs in this process, so its clock is this machine's).
 */
export interface DocRow {
  key: string;
  partition: string;
  sort: number;
  active: boolean;
  leaseOwner: string | null;
  /** Unix ms on the store's clock; null when no lease was ever taken or it was released. */
  leaseExpiresAt: number | null;
  body: string;
}

export interface NewDoc {
  key: string;
  partition: string;
  sort: number;
  active: boolean;
  body: string;
  /** Take the lease in the same atomic write. */
  lease?: { owner: string; ttlMs: number };
}

export interface DocChanges {
  sort?: number;
  active?: boolean;
  body: string;
}

export interface Docs {
  /** Writes the document only if the key is new; false when it already exists. */
  insert(collection: string, doc: NewDoc): Promise<boolean>;
  get(collection: string, key: string): Promise<DocRow | null>;
  /** Creates or replaces the document (its lease, if any, is kept). */
  upsert(collection: string, doc: Omit<NewDoc, 'lease'>): Promise<void>;
  /**
   * Creates or replaces the document like `upsert`, and counts: `doc.body` is a JSON object, and
   * its `field` is written as one more than the stored document's (1 when there is none, or it has
   * none). One atomic write, so concurrent increments of a key are never lost (whichever came last
   * gives the rest of the body). Returns the count written.
   */
  increment(collection: string, doc: Omit<NewDoc, 'lease'>, field: string): Promise<number>;
  /** Fenced write: applies only while `owner` holds the lease; false otherwise. */
  update(collection: string, key: string, owner: string, changes: DocChanges): Promise<boolean>;
  /**
   * Takes (or renews) the lease of an active document that is free, expired or already `owner`'s.
   * Returns the document as it is now, or null when someone else holds it or it is not active.
   */
  lease(collection: string, key: string, owner: string, ttlMs: number): Promise<DocRow | null>;
  /** Gives the lease up, only if `owner` holds it; with `remove`, the document goes with it. */
  release(collection: string, key: string, owner: string, options?: { remove?: boolean }): Promise<void>;
  /** Active documents whose lease is free or expired (oldest sort first). */
  expired(collection: string, limit: number): Promise<string[]>;
  /**
   * A partition's documents in `sort` order (then key order), from `minSort`; with `newestFirst`,
   * the highest `sort` first (then key order reversed), down to `minSort`.
   */
  list(
    collection: string,
    partition: string,
    options: { minSort?: number; limit: number; offset?: number; newestFirst?: boolean },
  ): Promise<DocRow[]>;
  /** Keys of every document of a collection, in key order after `afterKey` (for sweeps). */
  keys(collection: string, options: { afterKey?: string; limit: number }): Promise<string[]>;
  remove(collection: string, key: string): Promise<void>;
  removePartition(collection: string, partition: string): Promise<void>;
  /** Deletes a partition's documents with `sort` below `beforeSort`, and beyond its newest `keep`. */
  trim(collection: string, partition: string, options: { beforeSort: number; keep: number }): Promise<void>;
  /** How many active documents, and the smallest `sort` among them. */
  activeStats(collection: string): Promise<{ count: number; oldestSort: number | null }>;
  /**
   * How many documents a collection holds, counted up to `max` (so a gauge stays cheap however far
   * a collection grew): SQL counts at most `max` entries of the primary key's index, Redis reads the
   * size of the collection's key set.
   */
  count(collection: string, options?: { max?: number }): Promise<number>;
  /**
   * Removes the document only if it is still as it was read (same `sort`, same `body`): a sweep
   * removes the record it judged, never a newer version written since. True when it was removed.
   */
  removeIfUnchanged(collection: string, key: string, seen: { sort: number; body: string }): Promise<boolean>;
  /**
   * Writes the document only if the key is new, like `insert`, with `sort` set to the store's clock
   * at the write (unix ms: PostgreSQL's and Redis's own clock, the same for every replica; SQLite's
   * is this process's). Returns that time, or null when the key already exists. Newer-than between
   * documents written by different replicas is then decided by one clock, not each replica's.
   */
  insertStamped(collection: string, doc: Omit<NewDoc, 'sort'>): Promise<number | null>;
  /**
   * Creates or replaces the document only if it is still as it was read: `seen` is its body then,
   * or null when there was none (then it is created only if still absent). Its lease, if any, is
   * kept. True when written; false when someone wrote it (or removed it) since it was read.
   */
  replaceIfUnchanged(
    collection: string,
    doc: Omit<NewDoc, 'lease'>,
    seen: { body: string } | null,
  ): Promise<boolean>;
}

/**
 * For `increment`: the body without `field`, as the text before and after its count, which goes
 * first (`{"count":` n `,…}`), so that a backend writes the whole body in the same statement that
 * reads the old count.
 */
export function aroundCount(body: string, field: string): { head: string; tail: string } {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field))
    throw new TypeError(`increment: field ${JSON.stringify(field)}`);
  const parsed: unknown = JSON.parse(body);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TypeError('increment: the body must be a JSON object');
  }
  const { [field]: _replaced, ...rest } = parsed as Record<string, unknown>;
  const text = JSON.stringify(rest);
  return { head: `{"${field}":`, tail: text === '{}' ? '}' : `,${text.slice(1)}` };
}
