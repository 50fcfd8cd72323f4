/** What every operator command needs: the parsed config, the key(s) and the store, opened as the bot opens them. */

import { trailWorkspaces } from '../audit/trail.js';
import type { Config } from '../config.js';
import { errorText } from '../log.js';
import { SecretBox } from '../store/crypto.js';
import { readKeyFile } from '../store/key-file.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';

export interface Output {
  line(text: string): void;
}

/** The box the bot would use; null when there is no key anywhere (the CLI never creates one). */
export async function openBox(config: Config): Promise<{ box: SecretBox; source: string } | null> {
  if (config.encryptionKey) {
    return {
      box: new SecretBox(config.encryptionKey, config.oldEncryptionKeys),
      source: 'TOKEN_ENCRYPTION_KEY',
    };
  }
  const file = await readKeyFile(config.dataDir);
  return file ? { box: new SecretBox(file.key), source: file.file } : null;
}

export function openConfiguredStore(
  config: Config,
  onError: (error: unknown) => void = () => {},
): Promise<Store> {
  return openStore(config.store.url, {
    retentionMs: config.audit.retentionDays * 86_400_000,
    maxPerWorkspace: config.audit.maxPerWorkspace,
    onError,
  });
}

/**
 * Every key/value record, as `[key, value]` (keys without the store's namespace). The bot may be
 * writing meanwhile: a record removed between the adapter listing its key and reading its value
 * (Redis: SCAN, then MGET) comes with no value, on which Keyv's iterator throws; it is gone, so it is
 * skipped.
 */
export async function* records(store: Store): AsyncGenerator<[string, unknown]> {
  const adapter = store.kv.store as {
    iterator?(namespace: string | undefined): AsyncIterable<[string, unknown]>;
  };
  if (typeof store.kv.iterator !== 'function' || typeof adapter.iterator !== 'function')
    throw new Error('this store cannot list its records');
  const list = adapter.iterator.bind(adapter);
  async function* present(namespace: string | undefined) {
    for await (const entry of list(namespace)) {
      if (entry[1] !== undefined && entry[1] !== null) yield entry;
    }
  }
  const iterate = store.kv.generateIterator(present);
  for await (const [key, value] of iterate(undefined) as AsyncIterable<[string, unknown]>) {
    yield [key, value];
  }
}

/** Records holding a sealed value (Katapult tokens, Slack installations): the AAD is the record key. */
export async function* sealedRecords(
  store: Store,
): AsyncGenerator<{ key: string; record: Record<string, unknown> & { sealed: string } }> {
  for await (const [key, value] of records(store)) {
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { sealed?: unknown }).sealed === 'string'
    ) {
      yield { key, record: value as Record<string, unknown> & { sealed: string } };
    }
  }
}

/** Workspace IDs the store knows of (the audit trail, tokens, access policies, installations, upcoming deletions). */
export async function knownWorkspaces(store: Store): Promise<string[]> {
  // The trail first: a workspace that uninstalled has nothing else left in the store.
  const found = new Set<string>(await trailWorkspaces(store));
  for await (const [key] of records(store)) {
    const match = /^(?:token|access|installation|upcoming):([A-Z0-9]+)(?::|$)/.exec(key);
    if (match?.[1]) found.add(match[1]);
  }
  return [...found].sort();
}

export function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const message = errorText(error);
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}
