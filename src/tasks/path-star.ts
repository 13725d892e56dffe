// The path-star graph task of Bachmann & Nagarajan 2024, "The Pitfalls of Next-Token Prediction", in their exact
// format (`gregorbachmann/Next-Token-Failures`, data/graphs.py and tokenizing/numeral_tokenizer.py).
//
// A source node has `degree` arms of `pathLength - 1` further nodes each; the goal is the last node of one arm.
// Node labels are drawn without repeats from [0, nodes). The directed parent→child edges are shuffled and listed,
// then the source and goal are given; the target is the path from source to goal:
//
//   text     u,v|u,v|…|u,v/s,g=s,x1,…,g
//   tokens   u v | u v | … | u v / s g =      (commas dropped; `|` separates edges, so the last edge has none)
//
// Prompt length: 3·E − 1 edge tokens + 4 (`/ s g =`) = 3·degree·(pathLength−1) + 3, with E = degree·(pathLength−1)
// edges; G(2,5,50) gives 27 + 5 = 32 tokens. The first target token is the source (a copy of the prompt), so the
// one hard decision — which arm leads to the goal — is target position 1.
//
// Token ids: node i → i, `|` → N, `=` → N+1, `/` → N+2, `$` → N+3 (teacherless dummy), as B&N (vocab N+4). This
// lab adds two: N+4 the masked-diffusion [MASK] and N+5 padding (never used by this task's examples, but every task
// reserves one), so the vocabulary has N+6 tokens.
import type { Rng } from '../model/rng';
import { SPECIAL_DISPLAY } from './display';
import { checkTaskField, TaskSpecError } from './spec-error';
import { heldOutSplit } from './split';
import type { PathStarSpec } from '../spec/types';
import type { Example, Task } from './types';

export type { PathStarSpec } from '../spec/types';

/** The graph sizes the literature reports, by B&N's name G(degree, pathLength, nodes). */
export const PATH_STAR_PRESETS = {
  'G(3,3,30)': { degree: 3, pathLength: 3, nodes: 30 },
  'G(2,5,50)': { degree: 2, pathLength: 5, nodes: 50 },
  'G(5,5,30)': { degree: 5, pathLength: 5, nodes: 30 },
} as const satisfies Record<string, Pick<PathStarSpec, 'degree' | 'pathLength' | 'nodes'>>;
export type PathStarPresetName = keyof typeof PATH_STAR_PRESETS;

/**
 * A preset's spec. Default sizes: fresh graphs every step (the budgets a browser GPU affords never exhaust the
 * graph space) and 500 held-out test graphs.
 */
export function pathStarPreset(name: string, sizes: { trainSize?: number; testSize?: number } = {}): PathStarSpec {
  const preset = (PATH_STAR_PRESETS as Record<string, (typeof PATH_STAR_PRESETS)[PathStarPresetName]>)[name];
  if (!preset) {
    throw new TaskSpecError('task', `unknown path-star preset ${JSON.stringify(name)}; one of ${presetNames()}`);
  }
  return { kind: 'path-star', ...preset, trainSize: sizes.trainSize ?? 0, testSize: sizes.testSize ?? 500 };
}

function presetNames(): string {
  return Object.keys(PATH_STAR_PRESETS).join(', ');
}

/** Prompt tokens for a graph of this size: 3·degree·(pathLength−1) + 3. */
export function pathStarPromptLength(degree: number, pathLength: number): number {
  return 3 * degree * (pathLength - 1) + 3;
}

/** Number of distinct problems (graph + goal): ordered label choices, with the degree−1 non-goal arms unordered. */
function distinctGraphs(degree: number, pathLength: number, nodes: number): number {
  const used = degree * (pathLength - 1) + 1;
  let count = 1;
  for (let i = 0; i < used && count < 1e15; i++) count *= nodes - i;
  for (let i = 2; i < degree; i++) count /= i;
  return count;
}

/** Throws TaskSpecError naming the first bad field. */
export function validatePathStarSpec(spec: PathStarSpec): void {
  checkTaskField('task.degree', spec.degree);
  checkTaskField('task.pathLength', spec.pathLength);
  checkTaskField('task.nodes', spec.nodes);
  const needed = spec.degree * (spec.pathLength - 1) + 1;
  if (spec.nodes < needed) {
    throw new TaskSpecError(
      'task.nodes',
      `must be at least degree·(pathLength−1)+1 = ${needed} so that every node label is distinct, got ${spec.nodes}`,
    );
  }
  checkTaskField('task.trainSize', spec.trainSize);
  checkTaskField('task.testSize', spec.testSize);
  const space = distinctGraphs(spec.degree, spec.pathLength, spec.nodes);
  if (spec.testSize > space / 2) {
    throw new TaskSpecError(
      'task.testSize',
      `must be at most half the ${space} distinct graphs of this size (${Math.floor(space / 2)}), got ${spec.testSize}`,
    );
  }
}

/** One graph: partial Fisher–Yates picks the distinct labels; arm 0 ends at the goal. */
function drawGraph(rng: Rng, degree: number, pathLength: number, nodes: number): Example {
  const labels = Array.from({ length: nodes }, (_, i) => i);
  const used = degree * (pathLength - 1) + 1;
  for (let i = 0; i < used; i++) {
    const j = i + rng.int(nodes - i);
    const tmp = labels[i]!;
    labels[i] = labels[j]!;
    labels[j] = tmp;
  }
  const source = labels[0]!;
  const edges: [number, number][] = [];
  const arms: number[][] = [];
  for (let a = 0; a < degree; a++) {
    const arm = labels.slice(1 + a * (pathLength - 1), 1 + (a + 1) * (pathLength - 1));
    let parent = source;
    for (const child of arm) {
      edges.push([parent, child]);
      parent = child;
    }
    arms.push(arm);
  }
  rng.shuffle(edges);
  const goalArm = arms[0]!;
  const goal = goalArm[goalArm.length - 1]!;
  const bar = nodes;
  const prompt: number[] = [];
  edges.forEach(([u, v], i) => {
    if (i > 0) prompt.push(bar);
    prompt.push(u, v);
  });
  prompt.push(nodes + 2, source, goal, nodes + 1); // `/ s g =`
  return { prompt, target: [source, ...goalArm] };
}

/** Edges of the graph in a path-star prompt, as `parent→child` strings. */
function promptEdges(prompt: readonly number[]): string[] {
  const edges: string[] = [];
  // Edge j's parent and child sit at 3j and 3j+1; the last four tokens are `/ s g =`.
  for (let j = 0; 3 * j + 1 < prompt.length - 4; j++) edges.push(`${prompt[3 * j]}>${prompt[3 * j + 1]}`);
  return edges;
}

/**
 * Canonical key of a problem: the edge set (sorted, as parent·4096 + child codes) and the goal; the edge order is
 * only presentation. Numeric sorting keeps this cheap enough to run on every fresh training graph.
 */
export function pathStarKey(e: Example): string {
  const p = e.prompt;
  const edges = new Int32Array(Math.floor((p.length - 3) / 3));
  for (let j = 0; j < edges.length; j++) edges[j] = p[3 * j]! * 4096 + p[3 * j + 1]!;
  edges.sort();
  return `${edges.join(',')}/${p[p.length - 2]}`;
}

export function pathStarTask(spec: PathStarSpec, seed: number): Task {
  validatePathStarSpec(spec);
  const { degree, pathLength, nodes } = spec;
  const split = heldOutSplit(
    (rng) => drawGraph(rng, degree, pathLength, nodes),
    pathStarKey,
    spec.trainSize,
    spec.testSize,
    seed,
  );
  const vocab = Array.from({ length: nodes }, (_, i) => String(i));
  vocab.push('|', '=', '/', SPECIAL_DISPLAY.dummy, SPECIAL_DISPLAY.mask, SPECIAL_DISPLAY.pad);
  const special = { dummy: nodes + 3, mask: nodes + 4, pad: nodes + 5 };
  return {
    name: `path-star G(${degree},${pathLength},${nodes})`,
    vocab,
    special,
    promptLength: pathStarPromptLength(degree, pathLength),
    targetLength: pathLength,
    decisionPosition: 1,
    sampleTrain: split.sampleTrain,
    test: split.test,
    isValid(example, predicted) {
      // A valid path: starts at the source, follows edges of this graph (down any arm), and has pathLength nodes.
      if (predicted.length !== pathLength) return false;
      if (predicted[0] !== example.prompt[example.prompt.length - 3]) return false;
      const edges = new Set(promptEdges(example.prompt));
      for (let i = 0; i + 1 < predicted.length; i++) {
        if (!edges.has(`${predicted[i]}>${predicted[i + 1]}`)) return false;
      }
      return true;
    },
    format(tokens) {
      // B&N's text form: commas between consecutive node labels, other tokens as they are; padding left out.
      let out = '';
      let prevNode = false;
      for (const t of tokens) {
        if (t === special.pad) continue;
        const isNode = t >= 0 && t < nodes;
        if (isNode && prevNode) out += ',';
        out += vocab[t] ?? `<${t}?>`;
        prevNode = isNode;
      }
      return out;
    },
  };
}
