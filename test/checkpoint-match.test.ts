// Which lane of the setup an imported checkpoint fits (LabApi.matchCheckpoint): by objective and model config, with
// the differences named in the page's words.
import { describe, expect, test } from 'vitest';
import { DEFAULT_EXPERIMENT } from '../src/lab/experiments';
import { matchCheckpoint } from '../src/lab/checkpoint-match';
import { laneModelConfig, makeObjective } from '../src/objectives';
import { makeTask } from '../src/tasks';

const spec = DEFAULT_EXPERIMENT; // ntp and reverse on G(2,5,10), model 2/128/4
const task = makeTask(spec.task, spec.train.seed);
const reverseConfig = laneModelConfig(task, makeObjective({ kind: 'reverse' }), spec.model);

describe('matchCheckpoint', () => {
  test('a checkpoint fits the lane of its objective when the configs agree', () => {
    expect(matchCheckpoint(spec, { config: reverseConfig, objective: 'reverse' })).toEqual({
      objective: { kind: 'reverse' },
    });
    // No objective recorded (a nanoGPT file): the first lane whose config fits.
    expect(matchCheckpoint(spec, { config: reverseConfig, objective: null })).toEqual({ objective: { kind: 'ntp' } });
  });

  test('a different width or vocabulary is named, here and in the checkpoint', () => {
    const m = matchCheckpoint(spec, { config: { ...reverseConfig, nEmbd: 64, vocabSize: 13 }, objective: 'reverse' });
    expect(m).toEqual({
      problem: expect.stringMatching(
        /reverse lane of the current setup: width 128 here, 64 in the checkpoint; vocabulary size \d+ here, 13 in the checkpoint/,
      ),
    });
  });

  test('no lane of the objective, or a setup that builds no model, says what to do', () => {
    expect(matchCheckpoint(spec, { config: reverseConfig, objective: 'diffusion' })).toEqual({
      problem: expect.stringMatching(
        /trained with diffusion, and the current setup has no diffusion lane; select that objective first/,
      ),
    });
    const broken = { ...spec, task: { ...spec.task, nodes: 3 } };
    expect(matchCheckpoint(broken, { config: reverseConfig, objective: 'reverse' })).toEqual({
      problem: expect.stringMatching(/the current setup cannot build a model \(task\.nodes: must be at least/),
    });
  });
});
