// The experiments the lab offers by name: the default (the headline contrast at a budget a laptop reaches) and the
// literature's settings, each saying what it shows and at what budget its contrast is expected. The page's preset
// menu, its default form, and the command line's defaults all read this table.
//
// The default was chosen by measurement (docs/results.md, "The Clever Hans contrast, measured"; tools/scout-results/ for the
// PyTorch sweeps that scouted it): degree 2 so that chance is 1/2; path length 5 so that two Clever Hans positions follow
// the decision (next-token prediction then learns the child look-up and shows the signature: teacher-forced ≈ 1
// after the decision, the decision itself ≈ 1/2); 10 node labels, with which both look-ups are learned earliest; a
// 2-layer model of width 128 with 4 heads, which learned the reversed target's parent look-up on every seed tried,
// where width 64 escaped on about half of them; AdamW at a constant 1e-3 after a short warmup (a constant rate makes
// the first N steps of a longer run the same as a run of N steps); batch 256 and 1,000 steps. At batch 64 next-token
// prediction sat on a plateau before learning its copies, for up to 2,900 steps on one seed of sixteen in PyTorch and
// 4,000 in the lab (seed 9); at batch 256 every seed tried showed the signature by step 500, the lab's seed 9 among
// them, and the reversed target passed 90% by step 250 (docs/results.md, "Batch 256: the default").
import type { ExperimentSpec, ObjectiveSpec } from './api';
import { DEFAULT_TRAIN } from '../model/config';
import { DEFAULT_DECODE_STEPS, DEFAULT_MTP_HEADS } from '../objectives';

export interface ExperimentPreset {
  id: string;
  /** Short name for menus. */
  title: string;
  /** What it shows, in a sentence. */
  shows: string;
  /** The budget at which its contrast is expected, and where that figure comes from. */
  budget: string;
  spec: ExperimentSpec;
}

export const ALL_OBJECTIVES: ObjectiveSpec[] = [
  { kind: 'ntp' },
  { kind: 'reverse' },
  { kind: 'teacherless' },
  { kind: 'mtp', heads: DEFAULT_MTP_HEADS },
  { kind: 'diffusion', decodeSteps: DEFAULT_DECODE_STEPS, variant: 'mdlm' },
];

const CONTRAST_TASK = { kind: 'path-star', degree: 2, pathLength: 5, nodes: 10, trainSize: 0, testSize: 1000 } as const;

/** The headline experiment: next-token prediction against the reversed target on G(2,5,10). */
export const DEFAULT_EXPERIMENT: ExperimentSpec = {
  task: { ...CONTRAST_TASK },
  objectives: [{ kind: 'ntp' }, { kind: 'reverse' }],
  model: { nLayer: 2, nEmbd: 128, nHead: 4 },
  train: { ...DEFAULT_TRAIN, batchSize: 256, steps: 1000, lr: 1e-3, schedule: 'constant', warmupSteps: 20 },
  evalEvery: 100,
  evalExamples: 500,
};

const literature = (spec: Omit<ExperimentSpec, 'evalEvery' | 'evalExamples'>): ExperimentSpec => ({
  ...spec,
  evalEvery: 500,
  evalExamples: 500,
});

export const EXPERIMENT_PRESETS: readonly ExperimentPreset[] = [
  {
    id: 'clever-hans',
    title: 'The Clever Hans contrast (default)',
    shows:
      'Next-token prediction stays at chance (1/2) on the decision while learning to copy each later step; the reversed target plans the path.',
    budget:
      'Reverse passes 90% by step 250 and next-token prediction shows its signature by step 500 on 16 of 16 seeds in PyTorch, and on the seeds run in the lab (2.0·10¹³ FLOPs a lane, 256,000 graphs): minutes on a GPU; on a 2-core CPU about 50 minutes in Node (lavapipe), and the contrast is on screen by step 500.',
    spec: DEFAULT_EXPERIMENT,
  },
  {
    id: 'all-objectives',
    title: 'All five objectives on the contrast task',
    shows:
      'The same task and budget for ntp, reverse, teacherless, multi-token heads and masked diffusion side by side.',
    budget:
      'About 3× the default’s time (five lanes, four extra multi-token blocks); at the earlier default’s budget (3,000 steps of batch 64, 192,000 graphs) only reverse was seen to escape.',
    spec: { ...DEFAULT_EXPERIMENT, objectives: ALL_OBJECTIVES.map((o) => ({ ...o })) },
  },
  {
    id: 'alternatives',
    title: 'The alternatives on the contrast task (a GPU’s budget)',
    shows:
      'The default graph with MLM-U diffusion (Kitouni et al.’s masked diffusion over the whole sequence) at their batch of 256, beside ntp and reverse. In PyTorch at this setting MLM-U reached 90% on 6 of 8 seeds by step 12,000 (3 by 8,000, 5 by 10,000; batch 64: 4 of 8 by 16,000), seeds 1–3 among them; seeds 7 and 8 were still at the decision’s chance at step 16,000, the goal’s parent the one look-up they had not learned from the goal’s side. Ntp at this batch kept its signature (docs/results.md, "MLM-U over several seeds"). Multi-token heads and token order prediction are not in it: no setting tried made them escape (the all-objectives experiment has the heads).',
    budget:
      '12,000 steps of batch 256 (3 million fresh graphs), 7.1·10¹⁴ FLOPs in all (MLM-U 2.4·10¹⁴): about 80 minutes a seed for MLM-U in PyTorch on one CPU core; in Node on a 2-core CPU about 18 hours a seed at the default’s speed (estimated, not run); on a GPU through Run at scale (not timed there yet).',
    spec: {
      ...DEFAULT_EXPERIMENT,
      objectives: [
        { kind: 'ntp' },
        { kind: 'reverse' },
        { kind: 'diffusion', decodeSteps: DEFAULT_DECODE_STEPS, variant: 'mlmu' },
      ],
      train: { ...DEFAULT_EXPERIMENT.train, batchSize: 256, steps: 12_000 },
      evalEvery: 1000,
    },
  },
  {
    id: 'bn-g2-5-50',
    title: 'B&N’s G(2,5,50)',
    shows: 'Bachmann & Nagarajan’s graph: ntp at 1/2, reverse and teacherless escape in their runs.',
    budget:
      'They trained 6 layers × 384 on 200k graphs, batch 256, lr 1e-4, for many epochs (~10¹⁶ FLOPs): hours on a good GPU.',
    spec: literature({
      task: { kind: 'path-star', degree: 2, pathLength: 5, nodes: 50, trainSize: 200_000, testSize: 1000 },
      objectives: [{ kind: 'ntp' }, { kind: 'reverse' }, { kind: 'teacherless' }],
      model: { nLayer: 6, nEmbd: 384, nHead: 6 },
      train: { ...DEFAULT_TRAIN, batchSize: 256, steps: 50_000, lr: 1e-4, schedule: 'constant', weightDecay: 0 },
    }),
  },
  {
    id: 'mlmu-g2-5-50',
    title: 'Kitouni et al.’s G(2,5,50): MLM-U',
    shows:
      'Next-token prediction and the reversed target against MLM-U, masked diffusion over the whole sequence, on the graph where Kitouni et al. (2024, Fig. 5a) report next-token 50%, reversed 49%, MLM-U 100%.',
    budget:
      'Their setting: 4 layers × 256 (their model is PAST, an encoder–decoder; the lab’s is a plain bidirectional GPT of that size), 200k training graphs, batch 256, lr 1e-3, weight decay 1e-4, 5% warmup; 80,000 steps here (about 100 epochs), 1.2·10¹⁶ FLOPs a lane: a GPU’s budget, through Run at scale (PyTorch).',
    spec: literature({
      task: { kind: 'path-star', degree: 2, pathLength: 5, nodes: 50, trainSize: 200_000, testSize: 1000 },
      objectives: [{ kind: 'ntp' }, { kind: 'reverse' }, { kind: 'diffusion', decodeSteps: 16, variant: 'mlmu' }],
      model: { nLayer: 4, nEmbd: 256, nHead: 4 },
      train: {
        ...DEFAULT_TRAIN,
        batchSize: 256,
        steps: 80_000,
        lr: 1e-3,
        schedule: 'constant',
        warmupSteps: 4000,
        weightDecay: 1e-4,
      },
    }),
  },
  {
    id: 'top-g3-5-30',
    title: 'G(3,5,30), the TOP paper’s star graph',
    shows:
      'Next-token prediction, multi-token heads and token order prediction (TOP) on the graph and budget of the TOP paper’s star-graph table (arXiv 2508.19228). Its v2 reports that NTP, MTP and DS-MTP fail there and TOP succeeds; at 2 and 4 layers on the default graph TOP has not escaped here (docs/results.md).',
    budget: '8 layers × 384, 300k graphs, 100 epochs (~10¹⁷ FLOPs): a day on a good GPU.',
    spec: literature({
      task: { kind: 'path-star', degree: 3, pathLength: 5, nodes: 30, trainSize: 300_000, testSize: 1000 },
      objectives: [{ kind: 'ntp' }, { kind: 'mtp', heads: 2 }, { kind: 'mtp', heads: 4 }, { kind: 'top' }],
      model: { nLayer: 8, nEmbd: 384, nHead: 6 },
      train: { ...DEFAULT_TRAIN, batchSize: 256, steps: 100_000, lr: 1e-4, schedule: 'constant' },
    }),
  },
  {
    id: 'g3-3-30',
    title: 'G(3,3,30), path length 3',
    shows:
      'A graph with no Clever Hans position: the goal is given, the decision is one edge look-up, every objective alike.',
    budget: 'No contrast is expected at any budget (TOP, Table 5: ntp 33.8% on G(3,3)).',
    spec: literature({
      task: { kind: 'path-star', degree: 3, pathLength: 3, nodes: 30, trainSize: 0, testSize: 1000 },
      objectives: ALL_OBJECTIVES.map((o) => ({ ...o })),
      model: { nLayer: 2, nEmbd: 128, nHead: 4 },
      train: { ...DEFAULT_TRAIN, batchSize: 128, steps: 2000, lr: 1e-3, schedule: 'constant' },
    }),
  },
  {
    id: 'addition',
    title: 'Addition, plain vs reversed (control)',
    shows: 'A task without a planning trap: both orders are learned; a check that training works at all.',
    budget: '3-digit sums: ≥95% after 77k–192k examples for a 3-layer model in PyTorch.',
    spec: literature({
      task: { kind: 'addition', digits: 3, reversed: false, trainSize: 0, testSize: 1000 },
      objectives: [{ kind: 'ntp' }, { kind: 'reverse' }],
      model: { nLayer: 2, nEmbd: 128, nHead: 4 },
      train: { ...DEFAULT_TRAIN, batchSize: 128, steps: 2000, lr: 1e-3, schedule: 'constant' },
    }),
  },
];

export function experimentPreset(id: string): ExperimentPreset | undefined {
  return EXPERIMENT_PRESETS.find((p) => p.id === id);
}
