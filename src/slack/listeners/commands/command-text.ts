/** What the user typed after the slash command. */
export type CommandIntent =
  | { kind: 'help' }
  | { kind: 'token' }
  | { kind: 'access' }
  /** `admin`: `history admin`, the configuration and admin entries on their own. */
  | { kind: 'history'; admin: boolean }
  | { kind: 'freeze' }
  | { kind: 'unfreeze' }
  | { kind: 'schedule'; policyId: string | null; when: string | null };

export function parseCommandText(text: string | undefined): CommandIntent {
  const words = (text ?? '').trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  if (first === undefined) return { kind: 'schedule', policyId: null, when: null };
  const keyword = first.toLowerCase();
  if (keyword === 'help' || keyword === '?' || keyword === '-h' || keyword === '--help')
    return { kind: 'help' };
  if (keyword === 'history') return { kind: 'history', admin: rest[0]?.toLowerCase() === 'admin' };
  if (keyword === 'token' || keyword === 'access' || keyword === 'freeze' || keyword === 'unfreeze')
    return { kind: keyword };
  return { kind: 'schedule', policyId: first, when: rest.length ? rest.join(' ') : null };
}
