/* global process, console */
// The table of a vitest run's files: each file's time and the compute pipelines it compiled, slowest first.
//   PIPELINE_LOG=/tmp/p.jsonl npx vitest run --reporter=default --reporter=json --outputFile=/tmp/v.json
//   node tools/test-times.mjs /tmp/v.json /tmp/p.jsonl
// Run it with an empty shader cache (XDG_CACHE_HOME=$(mktemp -d)) to see what a fresh machine pays.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const [json, log] = process.argv.slice(2);
if (!json || !existsSync(json)) {
  console.error("usage: node tools/test-times.mjs VITEST_JSON [PIPELINE_LOG]  (the JSON reporter's output file)");
  process.exit(2);
}
const report = JSON.parse(readFileSync(json, 'utf8'));
const pipelines = new Map();
if (log && existsSync(log))
  for (const line of readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
    const { file, pipelines: n } = JSON.parse(line);
    pipelines.set(file, n);
  }
const rows = report.testResults
  .map((r) => {
    const file = relative(process.cwd(), r.name);
    return { file, s: (r.endTime - r.startTime) / 1000, tests: r.assertionResults.length, status: r.status };
  })
  .sort((a, b) => b.s - a.s);
console.log('| file | tests | time (s) | pipelines created |');
console.log('|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.file}${r.status === 'passed' ? '' : ` (${r.status})`} | ${r.tests} | ${r.s.toFixed(1)} | ${pipelines.get(r.file) ?? '–'} |`,
  );
const total = rows.reduce((a, r) => a + r.s, 0);
console.log(
  `| all ${rows.length} files | ${rows.reduce((a, r) => a + r.tests, 0)} | ${total.toFixed(1)} | ${[...pipelines.values()].reduce((a, b) => a + b, 0)} |`,
);
