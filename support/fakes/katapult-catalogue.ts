/**
 * The fake Katapult's world: its organizations (stable made-up ids and sub-domains) and its
 * catalogue of disk backup policies, which getting a policy, listing an organization's policies,
 * scheduling and restoring from the trash read and change. By default 45 policies on VMs and
 * disks with names like `web-1` and `db-primary-data`, all of FAKE_KATAPULT_DEFAULT_ORGANIZATION.
 * When the clock passes a policy's `auto_move_to_trash_at` it moves to the trash (kept 48 h), and
 * once the trash object's `keep_until` has passed it is purged (gone for good). No HTTP here.
 */
import { createHash } from 'node:crypto';

export type FakePolicyTargetType = 'VirtualMachine' | 'Disk';

export interface FakePolicySchedule {
  interval: 'hourly' | 'daily' | 'weekly' | 'monthly';
  frequency: number;
  time: number;
  minute: number;
  /** Unix seconds. */
  nextInvocationAt: number;
}

/** What `setPolicy` takes; everything but `id` and `target` has a default. */
export interface FakeDiskBackupPolicyInput {
  /** Any string; the catalogue's own ids look like `dbp_` + 16 alphanumerics. */
  id: string;
  target: { type: FakePolicyTargetType; id: string; name: string };
  /** Owner, by organization name as in `setTokens`. Default FAKE_KATAPULT_DEFAULT_ORGANIZATION. */
  organization?: string;
  /** Default 7. */
  retention?: number;
  /** Katapult's `total_size` (unit undocumented). Default 12.5. */
  totalSize?: number;
  /** Default daily at 02:30, next run one hour after `now`. */
  schedule?: FakePolicySchedule;
  /** Unix seconds; default null. */
  autoMoveToTrashAt?: number | null;
}

/** A policy as the fake holds it (a copy). */
export interface FakeDiskBackupPolicy {
  id: string;
  organization: string;
  retention: number;
  totalSize: number;
  target: { type: FakePolicyTargetType; id: string; name: string };
  schedule: FakePolicySchedule;
  autoMoveToTrashAt: number | null;
  /** Set while the policy is in the trash. */
  trash: { id: string; keepUntil: number } | null;
}

export const FAKE_KATAPULT_DEFAULT_ORGANIZATION = 'Acme Ops';
export const FAKE_KATAPULT_TARGET_VM_ID = 'vm_1kpkjQeMEI43tztr';
/** Name of FAKE_KATAPULT_TARGET_VM_ID in the catalogue. */
export const FAKE_KATAPULT_TARGET_VM_NAME = 'web-1';
/** Size of the default catalogue. */
export const FAKE_KATAPULT_POLICY_COUNT = 45;
/** How long a policy stays in the trash when the clock moves it there (docs: 48 h). */
export const FAKE_KATAPULT_TRASH_SECONDS = 48 * 3600;

/** The policies, keyed by id in list order, following a clock in milliseconds (like Date.now). */
export class FakePolicyCatalogue {
  private policies = new Map<string, FakeDiskBackupPolicy>();

  constructor(private readonly now: () => number) {
    this.reset();
  }

  /** Adds a policy, or replaces the one with that id (which is then out of the trash). */
  set(details: FakeDiskBackupPolicyInput): void {
    if (typeof details.id !== 'string' || details.id === '')
      throw new Error('fake katapult: a policy needs an id');
    this.policies.set(details.id, {
      id: details.id,
      organization: details.organization ?? FAKE_KATAPULT_DEFAULT_ORGANIZATION,
      retention: details.retention ?? 7,
      totalSize: details.totalSize ?? 12.5,
      target: { ...details.target },
      schedule: details.schedule ? { ...details.schedule } : this.defaultSchedule(),
      autoMoveToTrashAt: details.autoMoveToTrashAt ?? null,
      trash: null,
    });
  }

  /** Moves a policy to the trash until `keepUntil` (Unix seconds); returns the trash object's id. */
  trash(id: string, keepUntil: number): string {
    const policy = this.policies.get(id);
    if (!policy) throw new Error(`fake katapult: no policy ${id} in the catalogue`);
    if (!Number.isInteger(keepUntil)) throw new Error('fake katapult: keepUntil must be Unix seconds');
    policy.trash = { id: fakeId('trsh_', `trash:${id}`), keepUntil };
    return policy.trash.id;
  }

  /** Sets (or with null, clears) a policy's `auto_move_to_trash_at`, as a change made outside the bot. */
  setAutoMoveToTrashAt(id: string, at: number | null): void {
    const policy = this.policies.get(id);
    if (!policy) throw new Error(`fake katapult: no policy ${id} in the catalogue`);
    if (at !== null && !Number.isInteger(at)) throw new Error('fake katapult: at must be Unix seconds');
    policy.autoMoveToTrashAt = at;
  }

  /** Deletes a policy for good. */
  remove(id: string): void {
    this.policies.delete(id);
  }

  /** A copy of one policy after applying the clock, or undefined. */
  copyOf(id: string): FakeDiskBackupPolicy | undefined {
    this.applyClock();
    const policy = this.policies.get(id);
    return policy ? structuredClone(policy) : undefined;
  }

  /** Copies of every policy after applying the clock, in list order, trashed ones included. */
  copies(): FakeDiskBackupPolicy[] {
    this.applyClock();
    return [...this.policies.values()].map((policy) => structuredClone(policy));
  }

  /** Puts back the default catalogue, dropping all changes. */
  reset(): void {
    this.policies = new Map();
    for (const details of defaultCatalogue(this.nowSeconds())) this.set(details);
  }

  /** The live policy (changes to it are kept), `hidden` when it belongs to another organization, undefined when unknown. */
  visible(id: string, organization: string): FakeDiskBackupPolicy | 'hidden' | undefined {
    this.applyClock();
    const policy = this.policies.get(id);
    if (!policy) return undefined;
    return policy.organization === organization ? policy : 'hidden';
  }

  /** The organization's policies that are not in the trash, in list order. */
  listed(organization: string): FakeDiskBackupPolicy[] {
    this.applyClock();
    return [...this.policies.values()].filter((p) => p.organization === organization && !p.trash);
  }

  /** The organization's live policy in the trash, found by the trash object's id or by the policy's id. */
  inTrash(organization: string, by: 'id' | 'object_id', value: string): FakeDiskBackupPolicy | undefined {
    this.applyClock();
    return [...this.policies.values()].find(
      (p) =>
        p.organization === organization &&
        p.trash !== null &&
        (by === 'id' ? p.trash.id === value : p.id === value),
    );
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private defaultSchedule(): FakePolicySchedule {
    return {
      interval: 'daily',
      frequency: 1,
      time: 2,
      minute: 30,
      nextInvocationAt: this.nowSeconds() + 3600,
    };
  }

  /**
   * What the clock has done since the last look: a policy whose `auto_move_to_trash_at` has come
   * moves to the trash for FAKE_KATAPULT_TRASH_SECONDS, and one whose `keep_until` has passed is purged.
   */
  private applyClock(): void {
    const nowSeconds = this.nowSeconds();
    for (const policy of [...this.policies.values()]) {
      if (!policy.trash && policy.autoMoveToTrashAt !== null && policy.autoMoveToTrashAt <= nowSeconds) {
        this.trash(policy.id, policy.autoMoveToTrashAt + FAKE_KATAPULT_TRASH_SECONDS);
      }
      if (policy.trash && policy.trash.keepUntil <= nowSeconds) this.policies.delete(policy.id);
    }
  }
}

/** A policy's trash object on the wire. */
export function trashObject(policy: FakeDiskBackupPolicy, trash: { id: string; keepUntil: number }) {
  return { id: trash.id, keep_until: trash.keepUntil, object_id: policy.id, object_type: 'DiskBackupPolicy' };
}

/** A stable Katapult-looking id (`org_` + 16 alphanumerics) for a name. */
export function fakeOrganizationId(name: string): string {
  return fakeId('org_', name);
}

export function fakeSubDomain(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** The organization as `/users/current` lists it. */
export function organizationSummary(name: string) {
  return { id: fakeOrganizationId(name), name, sub_domain: fakeSubDomain(name) };
}

/** The organization as `/organizations` gives it. */
export function fullOrganization(name: string) {
  return {
    ...organizationSummary(name),
    infrastructure_domain: `${fakeSubDomain(name)}.kpult.io`,
    created_at: 1672531200,
    activated_at: 1672531260,
    suspended: false,
    managed: false,
  };
}

const CATALOGUE_MACHINES = [
  'web-1',
  'web-2',
  'web-3',
  'web-4',
  'db-primary',
  'db-replica',
  'cache-1',
  'cache-2',
  'worker-1',
  'worker-2',
  'worker-3',
  'mail',
  'ci-runner',
  'monitoring',
  'bastion',
] as const;

/**
 * The default catalogue: for each of 15 machines a daily policy on the VM, an hourly one on its
 * `<name>-data` disk and a weekly one on the VM (45 in all), in that order per machine. Ids are
 * stable (derived from the names); next runs are relative to `nowSeconds`.
 */
function defaultCatalogue(nowSeconds: number): FakeDiskBackupPolicyInput[] {
  const hour = Math.floor(nowSeconds / 3600) * 3600;
  const out: FakeDiskBackupPolicyInput[] = [];
  CATALOGUE_MACHINES.forEach((machine, i) => {
    const vm = {
      type: 'VirtualMachine' as const,
      id: i === 0 ? FAKE_KATAPULT_TARGET_VM_ID : fakeId('vm_', `vm:${machine}`),
      name: machine,
    };
    const disk = { type: 'Disk' as const, id: fakeId('disk_', `disk:${machine}`), name: `${machine}-data` };
    out.push(
      {
        id: fakeId('dbp_', `policy:${machine}:daily`),
        target: vm,
        retention: 7,
        totalSize: sizeFor(`${machine}:daily`),
        schedule: {
          interval: 'daily',
          frequency: 1,
          time: 2,
          minute: 30,
          nextInvocationAt: hour + 3600 + i * 60,
        },
      },
      {
        id: fakeId('dbp_', `policy:${machine}:hourly`),
        target: disk,
        retention: 24,
        totalSize: sizeFor(`${machine}:hourly`),
        schedule: { interval: 'hourly', frequency: 6, time: 0, minute: 15, nextInvocationAt: hour + 900 },
      },
      {
        id: fakeId('dbp_', `policy:${machine}:weekly`),
        target: vm,
        retention: 4,
        totalSize: sizeFor(`${machine}:weekly`),
        schedule: {
          interval: 'weekly',
          frequency: 1,
          time: 3,
          minute: 0,
          nextInvocationAt: hour + 86400 * 3,
        },
      },
    );
  });
  return out;
}

/** A stable, made-up `total_size` with two decimals (the unit is undocumented). */
function sizeFor(seed: string): number {
  const digest = createHash('sha256').update(seed).digest();
  return ((digest.readUInt32BE(0) % 500000) + 100) / 100;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `prefix` + 16 alphanumerics derived from `seed`. */
function fakeId(prefix: string, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let id = prefix;
  for (let i = 0; i < 16; i++) id += BASE62[(digest[i] ?? 0) % BASE62.length];
  return id;
}
