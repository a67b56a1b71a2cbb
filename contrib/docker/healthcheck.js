'use strict';
// Container HEALTHCHECK: healthy while the responder runs and, when it was started with
// --metrics-listen HOST:PORT, while its /metrics answers and says the uplink is up and answering
// (ndp_responder_link_up 1).
// The responder is found among this container's processes (pid 1, or a child of --init).
const { readdirSync, readFileSync } = require('node:fs');
const http = require('node:http');

function responderArgs() {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let args;
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    if (args.some((a) => a.endsWith('/ndp-responder.js')) && args.includes('run')) return args;
  }
  return undefined;
}

/** HOST:PORT of --metrics-listen as a URL host a local client can reach. */
function metricsUrl(args) {
  const index = args.findIndex((a) => a === '--metrics-listen' || a.startsWith('--metrics-listen='));
  if (index < 0) return undefined;
  const value = args[index].includes('=') ? args[index].slice(args[index].indexOf('=') + 1) : args[index + 1];
  const match = /^(.*):(\d+)$/.exec(value ?? '');
  if (match === null) return undefined;
  const host = { '': '127.0.0.1', '0.0.0.0': '127.0.0.1', '[::]': '[::1]', '::': '[::1]' }[match[1]] ?? match[1];
  return `http://${host}:${match[2]}/metrics`;
}

function fail(message) {
  process.stderr.write(`unhealthy: ${message}\n`);
  process.exit(1);
}

const args = responderArgs();
if (args === undefined) fail('no ndp-responder run process');
const url = metricsUrl(args);
if (url === undefined) process.exit(0);
const request = http.get(url, { timeout: 3000 }, (response) => {
  let body = '';
  response.setEncoding('utf8').on('data', (chunk) => (body += chunk));
  response.on('end', () => {
    if (response.statusCode !== 200) fail(`${url} answered ${response.statusCode}`);
    if (!/^ndp_responder_link_up 1$/m.test(body)) fail('the uplink is not up and answering (ndp_responder_link_up is not 1)');
    process.exit(0);
  });
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (error) => fail(`${url}: ${error.message}`));
