import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText } from '../../src/config/file';
import { mergeOptions } from '../../src/config/load';
import { parseOperationsOptions } from '../../src/config/operations';
import { parseRunOptions } from '../../src/config/run-options';
import { CONFIG_SCHEMA, parseRate } from '../../src/config/schema';

const EXAMPLE = `# the README's example
interface: eth0
via: br-lan6
targets:
  - 2001:db8::a:71a0/125
  - 2001:db8::5
configure-host: true
source: link-local
router: false
override: true
log-level: warn
log-format: json
metrics-listen: 127.0.0.1:9100
rate-limit-per-source: 50/s
rate-limit-global: 5000
docker-networks: [lan6]
`;

describe('parseConfigText: valid files', () => {
  test('every key lands on the option name its flag has', () => {
    assert.deepEqual(parseConfigText(EXAMPLE, 'config.yaml'), {
      interface: 'eth0',
      via: 'br-lan6',
      target: ['2001:db8::a:71a0/125', '2001:db8::5'],
      configureHost: true,
      source: 'link-local',
      router: false,
      override: true,
      logLevel: 'warn',
      logFormat: 'json',
      metricsListen: '127.0.0.1:9100',
      rateLimitPerSource: 50,
      rateLimitGlobal: 5000,
      dockerNetwork: ['lan6'],
    });
  });

  test('an empty file or one with only comments is no settings', () => {
    assert.deepEqual(parseConfigText('', 'c.yaml'), {});
    assert.deepEqual(parseConfigText('# nothing yet\n', 'c.yaml'), {});
  });

  test('the schema keys are the CLI flags in kebab-case, each once', () => {
    const keys = CONFIG_SCHEMA.map((r) => r.key);
    assert.equal(new Set(keys).size, keys.length);
    for (const key of ['interface', 'via', 'targets', 'docker-networks', 'configure-host', 'source', 'router', 'override', 'log-level', 'log-format', 'metrics-listen', 'rate-limit-per-source', 'rate-limit-global']) {
      assert.ok(keys.includes(key), key);
    }
  });
});

describe('parseConfigText: errors name file, line, column and key', () => {
  const cases: [string, string, string][] = [
    ['link-local target', 'interface: eth0\ntargets:\n  - 2001:db8::1\n  - 2001:db8::2\n  - fe80::1\n', 'config.yaml:5:5: targets[2]: "fe80::1" link-local addresses cannot be proxied'],
    ['IPv4 target', 'targets: [192.0.2.1]\n', 'config.yaml:1:11: targets[0]: "192.0.2.1" IPv4 has no Neighbour Discovery; give an IPv6 address'],
    ['host bits set', 'targets:\n  - 2001:db8::a:71a1/125\n', 'config.yaml:2:5: targets[0]: "2001:db8::a:71a1/125" host bits are set; did you mean 2001:db8::a:71a0/125?'],
    ['unknown key', 'interface: eth0\ninterfce: eth1\n', 'config.yaml:2:1: unknown key "interfce"'],
    ['key given twice', 'via: br0\nvia: br1\n', 'config.yaml:2:1: via: given twice'],
    ['boolean as a word', 'router: yes\n', 'config.yaml:1:9: router: expected true or false, got "yes"'],
    ['bad choice', 'source: auto\n', 'config.yaml:1:9: source: expected one of target, link-local, got "auto"'],
    ['targets not a list', 'targets: 2001:db8::1\n', 'config.yaml:1:10: targets: expected a list, got "2001:db8::1"'],
    ['list item not a string', 'targets:\n  - [1]\n', 'config.yaml:2:5: targets[0]: expected an address or prefix, got null'],
    ['interface name too long', 'interface: abcdefghijklmnopq\n', 'config.yaml:1:12: interface: "abcdefghijklmnopq": at most 15 characters'],
    ['interface name with a slash', 'via: br/0\n', 'config.yaml:1:6: via: "br/0" is not an interface name'],
    ['collection for a scalar', 'interface:\n  name: eth0\n', 'config.yaml:2:3: interface: expected a single value, got a collection'],
    ['rate not a number', 'rate-limit-global: fast\n', 'config.yaml:1:20: rate-limit-global: expected answers per second such as 100/s, got "fast"'],
    ['rate above max', 'rate-limit-per-source: 20000000/s\n', 'config.yaml:1:24: rate-limit-per-source: 20000000/s is out of range 0..10000000'],
    ['bad listen address', 'metrics-listen: localhost\n', 'config.yaml:1:17: metrics-listen: expected HOST:PORT such as 127.0.0.1:9100 or [::1]:9100, got "localhost"'],
    ['top level is a list', '- eth0\n', 'config.yaml:1:1: expected keys such as "interface:" and "targets:" at the top level'],
    ['YAML syntax', 'targets: [2001:db8::1\n', 'config.yaml:'],
  ];
  for (const [name, text, message] of cases) {
    test(name, () => {
      assert.throws(
        () => parseConfigText(text, 'config.yaml'),
        (error: Error & { exitCode?: number }) => {
          assert.ok(error.message.startsWith(message), `got: ${error.message}`);
          assert.equal(error.exitCode, 2);
          return true;
        },
      );
    });
  }
});

describe('flags over the file', () => {
  const file = parseConfigText('interface: eth0\nvia: br0\nsource: link-local\ntargets: [2001:db8::5]\nrate-limit-per-source: 7\n', 'c.yaml');

  test('a typed flag wins; a default does not', () => {
    const merged = mergeOptions(file, {
      values: { interface: 'eth1', source: 'target', override: true, logLevel: 'info' },
      explicit: new Set(['interface']),
      configFile: 'c.yaml',
    });
    assert.equal(merged.interface, 'eth1', 'typed --interface wins');
    assert.equal(merged.source, 'link-local', "commander's default for --source does not");
    assert.equal(merged.via, 'br0');
    const config = parseRunOptions(merged);
    assert.deepEqual(config.daemon.targets.map((t) => t.text), ['2001:db8::5']);
    assert.equal(config.daemon.rateLimits?.perSource.perSecond, 7);
  });

  test('--target on the command line replaces the file targets', () => {
    const merged = mergeOptions(file, { values: { target: ['2001:db8::9'] }, explicit: new Set(['target']), configFile: 'c.yaml' });
    assert.deepEqual(merged.target, ['2001:db8::9']);
  });
});

describe('rate and metrics flags', () => {
  test('parseRate accepts N/s, N and integers only', () => {
    const table: [unknown, number | undefined][] = [['100/s', 100], ['100', 100], [' 5 / s ', 5], [250, 250], [0, 0], ['1.5/s', undefined], [1.5, undefined], ['-1', undefined], ['100/m', undefined], [true, undefined]];
    for (const [input, expected] of table) assert.equal(parseRate(input), expected, String(input));
  });

  test('defaults, burst twice the rate, and one-line errors naming the flag', () => {
    const defaults = parseOperationsOptions({});
    assert.deepEqual(defaults.rateLimits.perFlow, { perSecond: 10, burst: 20 });
    assert.deepEqual(defaults.rateLimits.perSource, { perSecond: 0, burst: 0 }, 'off: a router resolving many addresses is one source');
    assert.deepEqual(defaults.rateLimits.global, { perSecond: 0, burst: 0 }, 'off: a flood would spend it');
    assert.deepEqual(parseOperationsOptions({ rateLimitPerFlow: '3/s' }).rateLimits.perFlow, { perSecond: 3, burst: 6 });
    assert.deepEqual(parseOperationsOptions({ rateLimitPerSource: '100/s' }).rateLimits.perSource, { perSecond: 100, burst: 200 });
    assert.equal(defaults.metricsListen, undefined);
    assert.deepEqual(parseOperationsOptions({ rateLimitGlobal: '30/s' }).rateLimits.global, { perSecond: 30, burst: 60 });
    assert.deepEqual(parseOperationsOptions({ metricsListen: '[::1]:9100' }).metricsListen, { host: '::1', port: 9100 });
    assert.deepEqual(parseOperationsOptions({ metricsListen: ':9100' }).metricsListen, { host: undefined, port: 9100 });
    assert.throws(() => parseOperationsOptions({ rateLimitPerSource: 'lots' }), /^UserError: invalid --rate-limit-per-source "lots"/);
    assert.throws(() => parseOperationsOptions({ rateLimitPerFlow: '-1' }), /^UserError: invalid --rate-limit-per-flow "-1"/);
    assert.throws(() => parseOperationsOptions({ metricsListen: '127.0.0.1:0' }), /invalid --metrics-listen "127.0.0.1:0"/);
  });
});
