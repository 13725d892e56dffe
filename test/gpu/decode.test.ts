// Greedy decoding on the GPU model, with and without the teacher-forced pass's argmaxes (causal.ts, greedyDecode):
// a pass is skipped while every example of the chunk has generated its true target so far, on the claim that the
// position it decodes then sees exactly the tokens it saw under teacher forcing (causal attention, each sequence's
// logits its own). These tests hold the engine to that claim: the predictions must be identical either way, also when
// every prediction of a chunk comes from the teacher-forced pass.
import { describe, expect, test } from 'vitest';
import { presetMatmulVariant } from '../../src/engine/matmul-variants';
import { GpuModel } from '../../src/engine/model';
import type { ForwardFn } from '../../src/model/batch';
import { laneModelConfig, makeObjective, parseObjectives } from '../../src/objectives';
import { makeTask } from '../../src/tasks';
import type { Example } from '../../src/tasks/types';
import { scaledInitParams } from '../fixtures';
import { testGpu } from './helpers';

const task = makeTask({ kind: 'path-star', degree: 2, pathLength: 4, nodes: 20, trainSize: 0, testSize: 24 }, 3);
const B = 12;

describe.each(['ntp', 'reverse', 'mtp:2'])('%s: greedy decoding on the GPU model', (name) => {
  test('the same predictions with the teacher-forced argmaxes as without, in fewer passes', async () => {
    const { device, adapterInfo, errors } = await testGpu();
    const objective = makeObjective(parseObjectives(name)[0]!);
    const cfg = laneModelConfig(task, objective, { nLayer: 2, nHead: 2, nEmbd: 32 });
    const T = objective.seqLen(task);
    const model = new GpuModel(device, cfg, { batch: B, seqLen: T, matmul: presetMatmulVariant(adapterInfo) });
    // Random weights (scaled up, so that the argmaxes differ from example to example and position to position).
    model.setParams(scaledInitParams(cfg, 5));
    const calls: number[] = [];
    const forward: ForwardFn = (tokens, n) => {
      calls.push(n);
      return model.forward(tokens, n);
    };
    const decodeBoth = async (examples: Example[]) => {
      const plain = await objective.decode(task, examples, forward);
      const tf = await objective.teacherForced(task, examples, forward);
      calls.length = 0;
      const hinted = await objective.decode(task, examples, forward, tf);
      return { plain: plain.predictions, hinted: hinted.predictions, passes: calls.length };
    };
    const L = task.targetLength;
    const examples = task.test.slice(0, B);
    // As the task gives them: the random model goes off its targets early, so few passes are skipped.
    const given = await decodeBoth(examples);
    expect(given.hinted).toEqual(given.plain);
    expect(given.passes).toBeLessThan(L); // at least the first pass, which sees only the prompt
    // Targets set to what the model decodes (where that has no pad, which the reverse order would move): the chunk
    // stays on track at every position, so every prediction comes from the teacher-forced pass, with no pass of
    // its own, and must still be what sequential decoding gives.
    const own = examples
      .map((e, b) => ({ prompt: e.prompt, target: given.plain[b]! }))
      .filter((e) => !e.target.includes(task.special.pad));
    expect(own.length).toBeGreaterThan(B / 2);
    const onTrack = await decodeBoth(own);
    expect(onTrack.plain).toEqual(own.map((e) => e.target));
    expect(onTrack.hinted).toEqual(onTrack.plain);
    expect(onTrack.passes).toBe(0);
    // Half on track, half as given: the passes from the first position some example leaves its target on.
    const pad = task.special.pad;
    const mixed = examples.map((e, b) =>
      b % 2 === 0 && !given.plain[b]!.includes(pad) ? { prompt: e.prompt, target: given.plain[b]! } : e,
    );
    const half = await decodeBoth(mixed);
    expect(half.hinted).toEqual(half.plain);
    expect(errors).toEqual([]);
    model.destroy();
  });
});
