// The experiment spec as a shareable URL query, and back. Every field is written, so a link keeps meaning the same
// experiment even if the page's defaults change. Reading is forgiving field by field: a malformed or out-of-range
// value is reported and replaced by that field's default, and the other fields are kept.
//
//   ?v=2&task=path-star&degree=2&pathLength=5&nodes=10&trainSize=0&testSize=1000&objectives=ntp,reverse
//    &layers=2&width=128&heads=4&steps=1500&batch=64&lr=0.001&schedule=constant&warmup=20&seed=1&evalEvery=100
//    &evalExamples=500
//
// Version 2 (v=2) links count mtpHeads as heads in all and name the schedule. A link without v was written before
// either: its mtpHeads counted extra heads beyond the next-token head, and its runs decayed the learning rate
// (cosine), so both are read that way and the link keeps meaning the experiment it was made for.
import type { ExperimentSpec, ObjectiveSpec, TaskSpec } from '../../lab/api';
import type { DiffusionVariant } from '../../spec/types';
import { LR_SCHEDULES, MODEL_PRESETS, type LrSchedule } from '../../model/config';
import {
  defaultObjective,
  DIFFUSION_VARIANTS,
  getNumber,
  MODEL_FIELDS,
  numberProblem,
  OBJECTIVE_FIELDS,
  OBJECTIVE_KINDS,
  setNumber,
  TASK_FIELDS,
  TRAIN_FIELDS,
  type NumberField,
} from '../../spec/fields';
import { DEFAULT_SPEC, DEFAULT_TASKS } from './spec-defaults';

/** A query parameter that could not be used as it was. */
export interface UrlProblem {
  param: string;
  message: string;
}

const TASK_KINDS: TaskSpec['kind'][] = ['path-star', 'addition', 'custom'];

/** The link format written by specToQuery (see the top of this file). */
export const LINK_VERSION = 2;

/** The spec as a query string (without the leading `?`). */
export function specToQuery(spec: ExperimentSpec): string {
  const q = new URLSearchParams();
  q.set('v', String(LINK_VERSION));
  q.set('task', spec.task.kind);
  if (spec.task.kind === 'addition') q.set('reversed', spec.task.reversed ? '1' : '0');
  for (const f of TASK_FIELDS[spec.task.kind]) q.set(f.param, String(getNumber(spec, f.path)));
  q.set('objectives', spec.objectives.map((o) => o.kind).join(','));
  for (const o of spec.objectives) {
    if (o.kind === 'mtp') q.set(OBJECTIVE_FIELDS.mtp.param, String(o.heads));
    if (o.kind === 'mtp' && o.layout) q.set('mtpLayout', o.layout);
    if (o.kind === 'diffusion') {
      q.set(OBJECTIVE_FIELDS.diffusion.param, String(o.decodeSteps));
      q.set('diffusionVariant', o.variant);
    }
  }
  for (const f of [...MODEL_FIELDS, ...TRAIN_FIELDS]) q.set(f.param, String(getNumber(spec, f.path)));
  q.set('schedule', spec.train.schedule ?? 'cosine');
  if (spec.task.kind === 'custom') q.set('text', spec.task.text); // last: it can be long
  return q.toString();
}

/** The spec a query describes, with every parameter that could not be used as given. */
export function specFromQuery(search: string): { spec: ExperimentSpec; problems: UrlProblem[] } {
  const q = new URLSearchParams(search);
  const problems: UrlProblem[] = [];
  const used = new Set<string>();
  const take = (param: string): string | null => {
    used.add(param);
    return q.get(param);
  };
  const complain = (param: string, raw: string, why: string, fallback: string) =>
    problems.push({ param, message: `${param}=${JSON.stringify(raw)} ${why}; using the default, ${fallback}.` });

  if (q.size === 0) return { spec: structuredClone(DEFAULT_SPEC), problems };
  const version = take('v');
  const v1 = version === null;
  if (version !== null && version !== String(LINK_VERSION)) {
    problems.push({
      param: 'v',
      message: `v=${JSON.stringify(version)} is not a link version this page knows (${LINK_VERSION}); read as version ${LINK_VERSION}.`,
    });
  }

  const kindRaw = take('task');
  let kind: TaskSpec['kind'] = DEFAULT_SPEC.task.kind;
  if (kindRaw !== null) {
    if ((TASK_KINDS as string[]).includes(kindRaw)) kind = kindRaw as TaskSpec['kind'];
    else complain('task', kindRaw, `is not a task (${TASK_KINDS.join(', ')})`, kind);
  }
  let task: TaskSpec = { ...DEFAULT_TASKS[kind] };
  if (task.kind === 'addition') {
    const raw = take('reversed');
    if (raw !== null) {
      const b = parseBool(raw);
      if (b === null) complain('reversed', raw, 'is not 1 or 0', task.reversed ? '1' : '0');
      else task = { ...task, reversed: b };
    }
  }
  if (task.kind === 'custom') {
    const raw = take('text');
    if (raw !== null) task = { ...task, text: raw };
  }

  let objectives = DEFAULT_SPEC.objectives;
  const listRaw = take('objectives');
  if (listRaw !== null) {
    const names = listRaw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const unknown = names.filter((n) => !(OBJECTIVE_KINDS as string[]).includes(n));
    const known = OBJECTIVE_KINDS.filter((k) => names.includes(k));
    if (unknown.length > 0) {
      problems.push({
        param: 'objectives',
        message: `objectives: ${unknown.map((u) => JSON.stringify(u)).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not an objective (${OBJECTIVE_KINDS.join(', ')}); left out.`,
      });
    }
    if (known.length > 0) objectives = known.map(defaultObjective);
    else complain('objectives', listRaw, 'names no objective', DEFAULT_SPEC.objectives.map((o) => o.kind).join(','));
  }
  const layoutRaw = take('mtpLayout');
  if (layoutRaw !== null) {
    if (layoutRaw === 'gloeckle') {
      objectives = objectives.map((o): ObjectiveSpec => (o.kind === 'mtp' ? { ...o, layout: 'gloeckle' } : o));
    } else complain('mtpLayout', layoutRaw, 'is not gloeckle', 'the next-token head on the trunk');
  }
  const variantRaw = take('diffusionVariant');
  if (variantRaw !== null) {
    if ((DIFFUSION_VARIANTS as readonly string[]).includes(variantRaw)) {
      objectives = objectives.map((o): ObjectiveSpec =>
        o.kind === 'diffusion' ? { ...o, variant: variantRaw as DiffusionVariant } : o,
      );
    } else complain('diffusionVariant', variantRaw, `is not one of ${DIFFUSION_VARIANTS.join(', ')}`, 'mdlm');
  }

  let spec: ExperimentSpec = { ...structuredClone(DEFAULT_SPEC), task, objectives };
  const presetRaw = take('model');
  if (presetRaw !== null) {
    const preset = (MODEL_PRESETS as Record<string, ExperimentSpec['model']>)[presetRaw];
    if (preset) spec = { ...spec, model: { ...preset } };
    else complain('model', presetRaw, `is not a preset (${Object.keys(MODEL_PRESETS).join(', ')})`, 'tiny');
  }

  const knobs: NumberField[] = objectives.flatMap((o: ObjectiveSpec) =>
    o.kind === 'mtp' || o.kind === 'diffusion' ? [OBJECTIVE_FIELDS[o.kind]] : [],
  );
  for (const f of [...TASK_FIELDS[kind], ...MODEL_FIELDS, ...TRAIN_FIELDS, ...knobs]) {
    const raw = take(f.param);
    if (raw === null) continue;
    let value = raw.trim() === '' ? NaN : Number(raw);
    if (v1 && f === OBJECTIVE_FIELDS.mtp) value += 1; // version 1 counted the heads beyond the next-token head
    const problem = Number.isNaN(value) ? 'is not a number' : numberProblem(f, value)?.replace(/, got .*$/, '');
    if (problem) complain(f.param, raw, problem, String(getNumber(spec, f.path)));
    else spec = setNumber(spec, f.path, value);
  }

  const scheduleRaw = take('schedule');
  if (scheduleRaw !== null) {
    if ((LR_SCHEDULES as readonly string[]).includes(scheduleRaw))
      spec = { ...spec, train: { ...spec.train, schedule: scheduleRaw as LrSchedule } };
    else complain('schedule', scheduleRaw, `is not ${LR_SCHEDULES.join(' or ')}`, spec.train.schedule ?? 'cosine');
  } else if (v1) spec = { ...spec, train: { ...spec.train, schedule: 'cosine' } };

  for (const param of q.keys()) {
    if (!used.has(param) && !isKnownElsewhere(param)) {
      problems.push({ param, message: `${param} is not a setting of this page; ignored.` });
      used.add(param);
    }
  }
  return { spec, problems };
}

/**
 * Page switches that are not part of the experiment; they stay in the address when the spec rewrites it.
 * `test-hooks=1` exposes window.__labTest for the end-to-end tests (src/main.ts); `seeds=1,2,3` repeats the run
 * once per seed (the page's `compare --seeds`).
 */
export const PAGE_PARAMS = ['test-hooks', 'seeds'] as const;

/** The page's query for a spec: the spec's parameters plus the page switches of the current query. */
export function pageQuery(spec: ExperimentSpec, currentSearch: string): string {
  const current = new URLSearchParams(currentSearch);
  const q = new URLSearchParams(specToQuery(spec));
  for (const p of PAGE_PARAMS) {
    const v = current.get(p);
    if (v !== null) q.set(p, v);
  }
  return q.toString();
}

/** Parameters of other task kinds or unselected objectives: valid in a link, just not used by this spec. */
function isKnownElsewhere(param: string): boolean {
  const all = [...Object.values(TASK_FIELDS).flat(), ...Object.values(OBJECTIVE_FIELDS)].map((f) => f.param);
  return (
    all.includes(param) ||
    param === 'reversed' ||
    param === 'text' ||
    (PAGE_PARAMS as readonly string[]).includes(param)
  );
}

function parseBool(raw: string): boolean | null {
  if (raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  return null;
}
