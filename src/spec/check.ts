// The one answer to "can this spec run?", as problems tied to the field the page shows them next to. Three stages,
// each only when the one before found nothing, so that one typo gives one message:
//   1. shape: a spec read from a link, a file or a message may be any JSON;
//   2. fields: every number against the field table (src/spec/fields.ts), then the task's, model's and training's
//      own rules (e.g. enough node labels for the graph, width a multiple of the heads) — no data, no GPU, cheap
//      enough for the page to run on every keystroke (fieldIssues);
//   3. build: the task's data (a custom task's text is parsed here) and each lane's memory plan against the
//      adapter's limits (checkSpec).
import { checkPlan, PlanError } from '../engine/plan';
import { ConfigError, validateModelConfig, validateTrainConfig } from '../model/config';
import { laneModelConfig, makeObjective, ObjectiveSpecError } from '../objectives';
import { makeTask, taskSpecIssues, TaskSpecError } from '../tasks';
import type { Task } from '../tasks/types';
import { activeFields, getNumber, numberProblem, TASK_FIELDS } from './fields';
import type { ExperimentSpec, SpecIssue } from './types';

/** The limits a spec's memory plan is checked against. */
export interface PlanLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxStorageBuffersPerShaderStage: number;
}

/** WebGPU's default limits: what a spec is checked against before a device exists. */
export const DEFAULT_LIMITS: PlanLimits = {
  maxStorageBufferBindingSize: 128 * 2 ** 20,
  maxBufferSize: 256 * 2 ** 20,
  maxStorageBuffersPerShaderStage: 8,
};

/** No limits: the spec alone (e.g. exporting an experiment for PyTorch, which plans its own memory). */
export const NO_LIMITS: PlanLimits = {
  maxStorageBufferBindingSize: Infinity,
  maxBufferSize: Infinity,
  maxStorageBuffersPerShaderStage: Infinity,
};

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Stage 1: the spec's shape, before any of its values is read. */
function shapeIssues(spec: unknown): SpecIssue[] {
  if (!isObject(spec)) return [{ field: 'spec', message: 'must be an object with task, objectives, model and train' }];
  const issues: SpecIssue[] = [];
  if (!isObject(spec.task) || typeof spec.task.kind !== 'string') {
    issues.push({ field: 'task', message: 'must be an object with a kind (path-star, addition or custom)' });
  }
  if (!Array.isArray(spec.objectives) || !spec.objectives.every((o) => isObject(o) && typeof o.kind === 'string')) {
    issues.push({ field: 'objectives', message: 'must be a list of objectives, each with a kind' });
  }
  if (!isObject(spec.model)) issues.push({ field: 'model', message: 'must be an object with nLayer, nEmbd and nHead' });
  if (!isObject(spec.train)) issues.push({ field: 'train', message: 'must be an object with the training settings' });
  return issues;
}

/**
 * Stages 1 and 2: the spec's shape, then its fields, one problem per field at most — ranges from the table first,
 * then the task, model and training validators (they stop at their first problem). No data is generated.
 */
export function fieldIssues(spec: ExperimentSpec): SpecIssue[] {
  const shape = shapeIssues(spec);
  if (shape.length > 0) return shape;
  const issues: SpecIssue[] = [];
  const add = (field: string, message: string) => {
    if (!issues.some((i) => i.field === field)) issues.push({ field, message });
  };
  // The field table knows every task kind; an unknown one has no fields to check.
  if (!Object.keys(TASK_FIELDS).includes(spec.task.kind)) {
    add('task.kind', `must be path-star, addition or custom, got ${JSON.stringify(spec.task.kind)}`);
    return issues;
  }
  for (const f of activeFields(spec)) {
    const problem = numberProblem(f, getNumber(spec, f.path));
    if (problem) add(f.path, problem);
  }
  if (spec.objectives.length === 0) add('objectives', 'choose at least one objective');
  if (!issues.some((i) => i.field.startsWith('task.'))) {
    for (const i of taskSpecIssues(spec.task)) add(i.field, i.message);
  }
  const guard = (prefix: string, check: () => void) => {
    try {
      check();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      add(`${prefix}.${e.field}`, e.message.slice(e.field.length + 2));
    }
  };
  if (!issues.some((i) => i.field.startsWith('model.'))) {
    guard('model', () =>
      validateModelConfig({ ...spec.model, vocabSize: 2, blockSize: 1, extraHeads: 0, attention: 'causal' }),
    );
  }
  if (!issues.some((i) => i.field.startsWith('train.'))) guard('train', () => validateTrainConfig(spec.train));
  return issues;
}

function issueOf(e: unknown, fallbackField: string): SpecIssue {
  if (e instanceof TaskSpecError || e instanceof ObjectiveSpecError) return { field: e.field, message: e.reason };
  if (e instanceof ConfigError) return { field: e.field, message: e.message };
  return { field: fallbackField, message: e instanceof Error ? e.message : String(e) };
}

/**
 * Every problem with a spec, by field: its fields (fieldIssues), then its task built from the spec's seed and each
 * objective's model planned against the limits. [] means the spec can run. Never throws for bad input.
 */
export function checkSpec(spec: ExperimentSpec, limits: PlanLimits): SpecIssue[] {
  const issues = fieldIssues(spec);
  if (issues.length > 0) return issues;
  let task: Task;
  try {
    task = makeTask(spec.task, spec.train.seed);
  } catch (e) {
    return [issueOf(e, 'task')];
  }
  spec.objectives.forEach((o, i) => {
    try {
      const objective = makeObjective(o, `objectives[${i}]`);
      const cfg = laneModelConfig(task, objective, spec.model);
      checkPlan(cfg, spec.train.batchSize, cfg.blockSize, limits);
    } catch (e) {
      if (e instanceof PlanError) {
        issues.push({
          field: e.suggestion?.batchSize ? 'train.batchSize' : 'model.nEmbd',
          message: `${o.kind}: ${e.message}`,
        });
      } else if (e instanceof ConfigError && !(e instanceof ObjectiveSpecError) && !(e instanceof TaskSpecError)) {
        issues.push({ field: `model.${e.field}`, message: e.message });
      } else {
        issues.push(issueOf(e, `objectives[${i}]`));
      }
    }
  });
  return issues;
}
