// The unrolled 16×16 matmuls are generated (tools/gen-matmul-unrolled.mjs), not written by hand: this fails when a
// checked-in shader is not what the script produces, so an edit to either cannot go unnoticed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

test.each(['matmul_vec4_16.wgsl', 'matmul_vec4_16_loads_first.wgsl'])(
  'shaders/%s is what tools/gen-matmul-unrolled.mjs writes (npm run gen:wgsl)',
  (file) => {
    const root = new URL('..', import.meta.url);
    const generated = execFileSync(process.execPath, ['tools/gen-matmul-unrolled.mjs', '--stdout', file], {
      cwd: root,
      encoding: 'utf8',
    });
    const checkedIn = readFileSync(new URL(`shaders/${file}`, root), 'utf8');
    expect(checkedIn, 'stale: run npm run gen:wgsl').toBe(generated);
  },
);
