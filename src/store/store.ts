/**
 * The bot's state, behind one narrow interface: key/value records (tokens, access policies) in
 * Keyv, an atomic "claim" for idempotency keys, an append-only audit log with retention, and
 * documents with leases (docs.ts).
 * Each backend implements these with its own atomic primitive; nothing shared lives in memory.
 */
import type Keyv from 'keyv';
import type { Docs } from './docs.js';
import type { RoundTripListener } from './turn-batch.js';

export interface AuditEntry {
  /** Unix ms. */
  at: number;
  workspace: string;
  user: string;
  channel: string | null;
  action:
    | 'schedule'
    | 'restore'
    | 'token_set'
    | 'token_removed'
    | 'access_changed'
    /** A request for approval: outcome `requested`, `approved`, `denied` or `expired`. */
    | 'approval'
    /** The emergency stop: outcome `frozen` or `unfrozen`. */
    | 'freeze'
    /**
     * The workspace uninstalled the app (or revoked its bot token): outcome `trail_kept` (single
     * workspace: the whole trail stays) or `activity_forgotten` (OAuth: only the admin trail stays).
     */
    | 'uninstall';
  policyId: string | null;
  /** Requested deletion time, unix seconds (UTC), and as the user read it in their zone. */
  requestedAt: number | null;
  requestedLocal: string | null;
  /** `scheduled`, `refused`, `duplicate`, a Katapult error code, or a failure kind. */
  outcome: string;
  autoMoveToTrashAt: number | null;
  requestId: string | null;
  retryNum: number | null;
  /** Where the outcome was posted: channel, direct_message, lost. */
  delivery: string | null;
  /** Approvals: who approved or denied (`user` is who asked). */
  decidedBy?: string | null;
  /**
   * Refusals and failures only: how many of this person's refusals (or failures with this outcome)
   * this entry stands for, within one 10-minute window.
   */
  count?: number;
  /** Started by a Workflow Builder step (`user` is the person the workflow named); absent: by a person. */
  via?: 'workflow';
}

export interface AuditLog {
  append(entry: AuditEntry): Promise<void>;
  /** Newest first. */
  recent(workspace: string, limit: number): Promise<AuditEntry[]>;
  /** Removes every entry of the workspace (it uninstalled the app). */
  forget(workspace: string): Promise<void>;
  /** Every workspace with entries (used by upgrades that carry data over). */
  workspaces(): Promise<string[]>;
}

export interface Store {
  kv: Keyv;
  /** True for exactly one caller per key until `ttlMs` passes, across processes sharing the store. */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /** Gives a claim up before its TTL (used as a short lock). */
  release(key: string): Promise<void>;
  audit: AuditLog;
  /** Documents with leases: the request log, the upcoming-deletions index, owned locks. */
  docs: Docs;
  close(): Promise<void>;
  /**
   * Removes up to `limit` claims whose TTL has passed and says how many. SQL keeps a lapsed claim
   * until something removes it; Redis expires each one by itself (PX), so there it removes nothing.
   */
  pruneClaims(limit: number): Promise<number>;
  /**
   * Claims stored (lapsed ones not removed yet included), counted up to `max`; null on Redis, whose
   * claims expire by themselves and have no cheap count.
   */
  countClaims(max: number): Promise<number | null>;
  /**
   * The key/value record `key` (without the namespace, as `kv` takes it) exactly as the backend holds
   * it: Keyv's serialized `{value, expires}` (`kv.deserializeData` reads it). Null when there is none.
   */
  kvGetRaw(key: string): Promise<string | null>;
  /**
   * Compare-and-set on one key/value record: writes `nextRaw` (Keyv's serialized form,
   * `kv.serializeData`) only if the record still holds exactly `expectedRaw`, in one atomic step on
   * the backend, and says whether it did. A record removed or written again since it was read stays
   * as it is (absent, or its new value). Redis keeps the record's TTL; SQL keeps what `nextRaw` says.
   */
  kvReplaceIfUnchanged(key: string, expectedRaw: string, nextRaw: string): Promise<boolean>;
  /**
   * Calls `listener` with every round trip to the backend as it is sent (the statements or commands
   * in it), or stops with null: for tests and the benchmark. Statements issued in one turn of the
   * event loop share a round trip (turn-batch.ts).
   */
  onRoundTrip(listener: RoundTripListener | null): void;
}
