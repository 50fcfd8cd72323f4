/**
 * The outbound proxy's rules on their own: the NO_PROXY list (src/net/no-proxy.ts), which proxy a
 * URL takes (src/net/proxy.ts), the variables as src/config.ts reads them, and proxy credentials
 * kept out of configuration errors and log fields. The proxy itself is exercised end to end in
 * test/e2e/proxy.test.ts.
 */
import { ConfigError, parseConfig } from '../../src/config.js';
import { noProxyMatcher } from '../../src/net/no-proxy.js';
import { createOutbound, proxyChoice, withoutCredentials } from '../../src/net/proxy.js';

describe('NO_PROXY', () => {
  const cases: [list: string, host: string, port: number, bypassed: boolean][] = [
    ['', 'slack.com', 443, false],
    ['*', 'slack.com', 443, true],
    ['example.com, *', 'slack.com', 443, true],
    // A name: the host and every host under it, not a host that merely ends the same.
    ['slack.com', 'slack.com', 443, true],
    ['slack.com', 'wss-primary.slack.com', 443, true],
    ['slack.com', 'notslack.com', 443, false],
    ['SLACK.com', 'Slack.COM', 443, true],
    ['slack.com.', 'slack.com', 443, true],
    // .domain and *.domain: the same.
    ['.slack.com', 'wss-primary.slack.com', 443, true],
    ['.slack.com', 'slack.com', 443, true],
    ['*.katapult.io', 'api.katapult.io', 443, true],
    ['*.katapult.io', 'katapult.io.example.net', 443, false],
    // host:port: that port only.
    ['api.katapult.io:443', 'api.katapult.io', 443, true],
    ['api.katapult.io:8443', 'api.katapult.io', 443, false],
    ['127.0.0.1:8080', '127.0.0.1', 8080, true],
    ['127.0.0.1:8080', '127.0.0.1', 8081, false],
    // IPs as written in the URL; no name is looked up.
    ['10.1.2.3', '10.1.2.3', 443, true],
    ['10.1.2.3', '10.1.2.30', 443, false],
    ['::1', '[::1]', 80, true],
    ['[::1]', '[::1]', 80, true],
    ['[::1]:8080', '[::1]', 80, false],
    ['[::1]:8080', '[::1]', 8080, true],
    // CIDR ranges.
    ['10.0.0.0/8', '10.200.3.4', 443, true],
    ['10.0.0.0/8', '11.0.0.1', 443, false],
    ['10.0.0.0/8', 'ten.example.com', 443, false],
    ['fd00::/8', '[fd12:3456::1]', 443, true],
    ['10.0.0.0/40', '10.0.0.1', 443, false],
    // Loopback is not special: only what is listed.
    ['', '127.0.0.1', 80, false],
    ['localhost', '127.0.0.1', 80, false],
    ['localhost', 'localhost', 80, true],
    // Separators: commas, spaces, both; empty entries ignored.
    ['example.com,,  slack.com', 'api.slack.com', 443, true],
    ['example.com slack.com', 'api.slack.com', 443, true],
  ];
  test.each(cases)('%j: %s:%d bypassed: %s', (list, host, port, bypassed) => {
    expect(noProxyMatcher(list)(host, port)).toBe(bypassed);
  });
});

describe('which proxy a URL takes', () => {
  const choose = proxyChoice({
    https: 'http://secure-proxy.example:3128/',
    http: 'http://plain-proxy.example:3128/',
    noProxy: 'internal.example, 127.0.0.1:9999',
  });
  test.each([
    ['https://slack.com/api/chat.postMessage', 'http://secure-proxy.example:3128/'],
    ['wss://wss-primary.slack.com/link/?ticket=1', 'http://secure-proxy.example:3128/'],
    ['http://127.0.0.1:8080/api/auth.test', 'http://plain-proxy.example:3128/'],
    ['ws://127.0.0.1:8080/link/', 'http://plain-proxy.example:3128/'],
    ['https://api.internal.example/core/v1', null],
    ['http://127.0.0.1:9999/core/v1', null],
    ['ftp://files.example/', null],
  ])('%s → %s', (url, proxy) => {
    expect(choose(new URL(url))).toBe(proxy);
  });

  test('HTTPS_PROXY alone leaves http:// URLs direct, and HTTP_PROXY alone leaves https:// ones direct', () => {
    const httpsOnly = proxyChoice({ https: 'http://p.example:1/', http: null, noProxy: '' });
    expect(httpsOnly(new URL('http://127.0.0.1:1/'))).toBeNull();
    const httpOnly = proxyChoice({ https: null, http: 'http://p.example:1/', noProxy: '' });
    expect(httpOnly(new URL('https://slack.com/api/'))).toBeNull();
  });
});

describe('the variables', () => {
  const base = { SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 'secret' };

  test('none set: no proxy, and NO_PROXY alone changes nothing', () => {
    expect(parseConfig(base).proxy).toBeNull();
    expect(parseConfig({ ...base, NO_PROXY: 'example.com' }).proxy).toBeNull();
  });

  test('upper case', () => {
    expect(
      parseConfig({
        ...base,
        HTTPS_PROXY: 'http://proxy.corp.example:3128',
        HTTP_PROXY: 'http://proxy.corp.example:3129',
        NO_PROXY: '.corp.example,10.0.0.0/8',
      }).proxy,
    ).toEqual({
      https: 'http://proxy.corp.example:3128/',
      http: 'http://proxy.corp.example:3129/',
      noProxy: '.corp.example,10.0.0.0/8',
    });
  });

  test('lower case first (as curl reads them); an empty lower-case one gives way', () => {
    expect(
      parseConfig({
        ...base,
        https_proxy: 'http://lower.example:1',
        HTTPS_PROXY: 'http://upper.example:2',
        http_proxy: '',
        HTTP_PROXY: 'http://upper.example:3',
        no_proxy: 'lower.example',
        NO_PROXY: 'upper.example',
      }).proxy,
    ).toEqual({
      https: 'http://lower.example:1/',
      http: 'http://upper.example:3/',
      noProxy: 'lower.example',
    });
  });

  test('host:port alone means http://; credentials are kept for the proxy', () => {
    expect(parseConfig({ ...base, HTTPS_PROXY: 'proxy.example:3128' }).proxy?.https).toBe(
      'http://proxy.example:3128/',
    );
    expect(
      parseConfig({ ...base, HTTPS_PROXY: 'http://u%40corp:p%3Ass@proxy.example:3128' }).proxy?.https,
    ).toBe('http://u%40corp:p%3Ass@proxy.example:3128/');
  });

  const PASSWORD = 'hunter2-proxy-password';
  test.each([
    ['HTTPS_PROXY', `socks5://ops:${PASSWORD}@proxy.example:1080`, 'other schemes'],
    ['https_proxy', `http://ops:${PASSWORD}@proxy.example:99999`, 'expected a proxy URL'],
    ['HTTP_PROXY', `http://ops:${PASSWORD}@proxy.example:3128/some/path`, 'without a path'],
    ['http_proxy', `http://ops:${PASSWORD}%zz@proxy.example:3128`, 'percent-encode'],
  ])('a wrong %s is named, and its value (with the password) is not shown', (variable, value, expected) => {
    let error: unknown;
    try {
      parseConfig({ ...base, [variable]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problem = (error as ConfigError).problems.find((p) => p.variable === variable);
    expect(problem?.expected).toContain(expected);
    const shown = `${(error as ConfigError).message}\n${(error as ConfigError).lines().join('\n')}`;
    expect(shown).not.toContain(PASSWORD);
    expect(shown).not.toContain('ops:');
  });
});

describe('credentials out of logs', () => {
  test.each([
    ['http://ops:s3cret@proxy.example:3128/', 'http://[redacted]@proxy.example:3128/'],
    ['http://ops@proxy.example:3128/', 'http://[redacted]@proxy.example:3128/'],
    ['http://proxy.example:3128/', 'http://proxy.example:3128/'],
    ['not a url ops:s3cret@proxy', '[redacted]@proxy'],
  ])('%s → %s', (url, shown) => {
    expect(withoutCredentials(url)).toBe(shown);
  });

  test('the outbound proxy describes itself without them and hands its passwords to the redactor', async () => {
    const outbound = await createOutbound({
      https: 'http://ops:pr0xy-secret-one@proxy.example:3128/',
      http: 'http://ops:pr0xy%20secret%20two@proxy.example:3129/',
      noProxy: 'example.com',
    });
    try {
      expect(outbound?.describe()).toEqual({
        https_proxy: 'http://[redacted]@proxy.example:3128/',
        http_proxy: 'http://[redacted]@proxy.example:3129/',
        no_proxy: 'example.com',
      });
      expect(outbound?.secrets).toEqual(['pr0xy-secret-one', 'pr0xy secret two']);
      expect(outbound?.proxyFor('https://slack.com/api/')).toBe(
        'http://ops:pr0xy-secret-one@proxy.example:3128/',
      );
      expect(outbound?.proxyFor('https://www.example.com/')).toBeNull();
    } finally {
      await outbound?.close();
    }
  });

  test('no proxy set: nothing is built', async () => {
    expect(await createOutbound(null)).toBeNull();
  });
});
