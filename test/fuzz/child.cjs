// Fuzz child: runs cases [from, to) of the list built by cases.cjs, one at a time, and writes
// `start <i>` before and one JSON result line after each, synchronously (fs.writeSync), so that
// when a case kills the process the parent knows which one did. Usage:
//   node --expose-gc child.cjs <fixtureDir> --prepare   writes the model files the loader cases need
//   node --expose-gc child.cjs <fixtureDir> --list      prints the case names, one JSON array
//   node --expose-gc child.cjs <fixtureDir> <from> <to> runs the cases
'use strict';
const fs = require('node:fs');
const { buildCases, prepare, classify } = require('./cases.cjs');

const out = (s) => fs.writeSync(1, s + '\n');
let current = -1;

process.on('uncaughtException', (e) => {
  out(JSON.stringify({ uncaught: current, message: String((e && e.stack) || e).slice(0, 600) }));
  process.exit(70);
});
process.on('unhandledRejection', (e) => {
  out(
    JSON.stringify({ uncaught: current, message: 'unhandled rejection: ' + String((e && e.stack) || e).slice(0, 600) }),
  );
  process.exit(71);
});

async function main() {
  const [dir, a, b] = process.argv.slice(2);
  if (a === '--prepare') {
    await prepare(dir);
    out('prepared');
    return;
  }
  const cases = buildCases(dir);
  if (a === '--list') {
    out(JSON.stringify(cases.map((c) => c.name)));
    return;
  }
  const from = Number(a),
    to = Math.min(Number(b), cases.length);
  for (let i = from; i < to; i++) {
    current = i;
    out(`start ${i}`);
    const r = await classify(cases[i]);
    out(JSON.stringify({ i, ...r }));
  }
  current = -1;
  out('done');
}
main().catch((e) => {
  out(JSON.stringify({ uncaught: current, message: 'harness: ' + String((e && e.stack) || e).slice(0, 600) }));
  process.exit(72);
});
