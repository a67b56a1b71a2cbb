#!/usr/bin/env node
'use strict';
// Thin launcher: the compiled CLI lives in dist/ (shipped in the package; `npm ci` in a checkout
// builds it through the prepare script). Written in ES5 so that an old Node can parse it and
// refuse with one line instead of a syntax error deep in dist/.
var major = Number(process.versions.node.split('.')[0]);
if (!(major >= 20)) {
  process.stderr.write('ndp-responder: needs Node.js 20 or newer, this is ' + process.versions.node + '\n');
  process.exit(3);
}
require('../dist/src/cli.js').main(process.argv);
