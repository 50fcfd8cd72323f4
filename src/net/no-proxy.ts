/**
 * The NO_PROXY list: which hosts are reached directly although a proxy is set. Pure, so the rules
 * are tested on their own (test/unit/no-proxy.test.ts). Entries are separated by commas or spaces,
 * case does not matter, and each is one of:
 *
 * - `*`: no host goes through the proxy;
 * - `example.com`, `.example.com` or `*.example.com`: that host and every host under it;
 * - `example.com:8443`: the same, on that port only;
 * - an IP address (`10.1.2.3`, `::1`, `[::1]`, `[::1]:8443`): that address as written in a URL;
 * - a CIDR range (`10.0.0.0/8`, `fd00::/8`): addresses in it, as written in a URL (no DNS lookup).
 *
 * Loopback is not special: `localhost` and `127.0.0.1` go through the proxy unless listed, as with
 * curl (Go's http.ProxyFromEnvironment would skip them).
 */
import { BlockList, isIP } from 'node:net';

/** Whether a URL's host (`URL.hostname`, IPv6 in brackets or not) and port are reached directly. */
export type Bypass = (hostname: string, port: number) => boolean;

type Rule =
  | { kind: 'name'; name: string; port: number | null }
  | { kind: 'ip'; list: BlockList; port: number | null };

/** `URL.hostname` without the brackets of an IPv6 address or a final dot, lower case. */
function bareHost(hostname: string): string {
  return hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

function family(address: string): 'ipv4' | 'ipv6' | null {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : null;
}

function ipRule(address: string, port: number | null, prefix?: number): Rule | null {
  const type = family(address);
  if (type === null) return null;
  const list = new BlockList();
  if (prefix === undefined) list.addAddress(address, type);
  else if (prefix >= 0 && prefix <= (type === 'ipv4' ? 32 : 128)) list.addSubnet(address, prefix, type);
  else return null;
  return { kind: 'ip', list, port };
}

/** One entry as a rule, `'all'` for `*`, or null for an entry that names nothing (ignored). */
function parseEntry(entry: string): Rule | 'all' | null {
  if (entry === '*') return 'all';
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (cidr) return ipRule(bareHost(cidr[1] as string), null, Number(cidr[2]));
  // A bare IPv6 address has colons of its own: it cannot carry a port without brackets.
  if (family(entry) === 'ipv6') return ipRule(entry, null);
  const withPort = /^(.+):(\d{1,5})$/.exec(entry);
  const host = bareHost(withPort ? (withPort[1] as string) : entry).replace(/^\*?\./, '');
  const port = withPort ? Number(withPort[2]) : null;
  if (host === '') return null;
  if (family(host) !== null) return ipRule(host, port);
  return { kind: 'name', name: host, port };
}

function matches(rule: Rule, host: string, port: number): boolean {
  if (rule.port !== null && rule.port !== port) return false;
  if (rule.kind === 'name') return host === rule.name || host.endsWith(`.${rule.name}`);
  const type = family(host);
  return type !== null && rule.list.check(host, type);
}

/** The NO_PROXY list as a test of a URL's host and port (an empty list bypasses nothing). */
export function noProxyMatcher(list: string): Bypass {
  const rules: Rule[] = [];
  let all = false;
  for (const entry of list.toLowerCase().split(/[\s,]+/)) {
    if (entry === '') continue;
    const rule = parseEntry(entry);
    if (rule === 'all') all = true;
    else if (rule !== null) rules.push(rule);
  }
  return (hostname, port) => {
    if (all) return true;
    const host = bareHost(hostname);
    return rules.some((rule) => matches(rule, host, port));
  };
}
