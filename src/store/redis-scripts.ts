/**
 * Lua scripts on Redis by their SHA1 (`EVALSHA`): the script's text goes over the wire, and is
 * hashed by the server, only the first time (or after a `SCRIPT FLUSH` or a restart, answered
 * `NOSCRIPT`), not with every call. And a way to see the round trips: node-redis writes every command
 * issued in one turn of the event loop in one write (`setImmediate`), so commands are grouped the
 * same way here for `Store.onRoundTrip`.
 */
import { createHash } from 'node:crypto';
import type { RedisClientType } from '@keyv/redis';
import type { RoundTripListener, Statement } from './turn-batch.js';

type Client = Pick<RedisClientType, 'evalSha' | 'eval'>;
type Options = { keys: string[]; arguments: string[] };

/** Runs `lua` by its hash, sending it once more when the server does not know it. */
export function scriptRunner(client: Client): (lua: string, options: Options) => Promise<unknown> {
  const hashes = new Map<string, string>();
  return async (lua, options) => {
    let sha = hashes.get(lua);
    if (!sha) {
      sha = createHash('sha1').update(lua).digest('hex');
      hashes.set(lua, sha);
    }
    try {
      return await client.evalSha(sha, options);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return client.eval(lua, options);
    }
  };
}

/**
 * Calls `listener` with each turn's commands while set (the client's `sendCommand` is wrapped only
 * then: nothing is paid when nobody listens).
 */
export function roundTripObserver(client: RedisClientType): (listener: RoundTripListener | null) => void {
  type Sender = { sendCommand: (args: unknown[], options?: unknown) => unknown; _self?: Sender };
  // Commands reach `sendCommand` through the client's own instance (`_self`), not the object handed out.
  const target = (client as unknown as Sender)._self ?? (client as unknown as Sender);
  const original = target.sendCommand;
  return (listener) => {
    if (!listener) {
      target.sendCommand = original;
      return;
    }
    let turn: Statement[] | null = null;
    target.sendCommand = function (this: unknown, args: unknown[], options?: unknown) {
      if (!turn) {
        const current: Statement[] = [];
        turn = current;
        setImmediate(() => {
          turn = null;
          listener(current);
        });
      }
      turn.push({ sql: String(args[0]).toUpperCase(), values: args.slice(1) });
      return original.call(this, args, options);
    };
  };
}
