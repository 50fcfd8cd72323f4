/** Opens the Keyv store named by STORE_URL. Only this file knows which adapters exist. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import Keyv from 'keyv';

export async function openStore(url: string, onError: (error: unknown) => void): Promise<Keyv> {
  const file = path.resolve(url.slice('sqlite://'.length));
  await mkdir(path.dirname(file), { recursive: true });
  const kv = new Keyv({
    store: new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 5000 }),
    namespace: 'katapult-chatops',
    // A failed write must reach the person who asked for it, not only an 'error' event.
    throwOnErrors: true,
  });
  kv.on('error', onError);
  // Fail at start (not at the first command) when the file cannot be opened.
  await kv.get('__probe__');
  return kv;
}
