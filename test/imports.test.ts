// One direction of calls: no two modules of src/ import each other's values in a circle (imports of types alone,
// `import type` or `{ type A }`, are erased at build time and may). Reads every src/**/*.ts, follows its relative
// value imports (side-effect imports included), and looks for a cycle.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { expect, test } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The relative modules a file imports values from. */
export function valueImports(path: string, text: string): string[] {
  const out: string[] = [];
  const resolve = (spec: string) => {
    const base = normalize(join(dirname(path), spec));
    for (const c of [`${base}.ts`, join(base, 'index.ts')]) {
      try {
        if (statSync(c).isFile()) return c;
      } catch {
        /* not this one */
      }
    }
    return null;
  };
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)([^;]*?)\s+from\s+'(\.[^'?]+)'/gms)) {
    const names = /\{([^}]*)\}/.exec(m[1]!);
    const rest = m[1]!.replace(/\{[^}]*\}/, '').replace(/[\s,]/g, '');
    const onlyTypes =
      names !== null &&
      rest === '' &&
      names[1]!
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n)
        .every((n) => n.startsWith('type '));
    const target = resolve(m[2]!);
    if (!onlyTypes && target) out.push(target);
  }
  for (const m of text.matchAll(/^import\s+'(\.[^'?]+)'/gm)) {
    const target = resolve(m[1]!);
    if (target) out.push(target);
  }
  return out;
}

/** One cycle of the graph, as a path that returns to its start, or null. */
function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (v: string): string[] | null => {
    state.set(v, 'open');
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (state.get(w) === 'open') return [...stack.slice(stack.indexOf(w)), w];
      if (!state.has(w)) {
        const c = visit(w);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(v, 'done');
    return null;
  };
  for (const v of graph.keys()) {
    if (state.has(v)) continue;
    const c = visit(v);
    if (c) return c;
  }
  return null;
}

test('src/ has no circle of value imports', () => {
  const graph = new Map(files('src').map((f) => [f, valueImports(f, readFileSync(f, 'utf8'))]));
  expect(graph.size).toBeGreaterThan(100);
  expect(findCycle(graph)).toBeNull();
});

test('the check sees a circle, and lets one through types alone', () => {
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts']],
  ]);
  expect(findCycle(graph)).toEqual(['a.ts', 'b.ts', 'c.ts', 'a.ts']);
  const text =
    "import type { A } from './run';\nimport { type B, type C } from './lane';\nimport { D, type E } from './lab';\n";
  expect(valueImports('src/lab/x.ts', text)).toEqual(['src/lab/lab.ts']);
});
