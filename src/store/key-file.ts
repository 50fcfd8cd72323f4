/** Loads the token encryption key from the data folder, creating it (mode 0600) on first start. */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const KEY_FILE_NAME = 'token-encryption.key';

export async function loadOrCreateKey(
  dataDir: string,
): Promise<{ key: Buffer; created: boolean; file: string }> {
  const file = path.join(dataDir, KEY_FILE_NAME);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    return { key: await readKey(file), created: true, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { key: await readKey(file), created: false, file };
  }
}

/** The key file's key, or null when there is none (the operator CLI never creates one). */
export async function readKeyFile(dataDir: string): Promise<{ key: Buffer; file: string } | null> {
  const file = path.join(dataDir, KEY_FILE_NAME);
  try {
    return { key: await readKey(file), file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

async function readKey(file: string): Promise<Buffer> {
  const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}
