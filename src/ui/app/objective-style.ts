// How each objective looks on the page: name, one-line description, colour and dash (colour-blind-safe
// Okabe–Ito colours, plus a dash pattern so lines stay distinguishable in grey-scale prints).
import type { ObjectiveSpec } from '../../lab/api';
import type { ObjectiveName } from '../../objectives/types';

export const OBJECTIVE_TITLES: Record<ObjectiveName, string> = {
  ntp: 'Next-token',
  reverse: 'Reverse',
  teacherless: 'Teacherless',
  mtp: 'Multi-token',
  diffusion: 'Masked diffusion',
  top: 'Token order',
};

export const OBJECTIVE_DESCRIPTIONS: Record<ObjectiveName, string> = {
  ntp: 'Predict each target token from the true earlier ones (teacher forcing), the standard objective.',
  reverse: 'Next-token prediction on the target written backwards (goal first).',
  teacherless: 'Every target input is replaced by a dummy token, so the whole answer is predicted at once (B&N 2024).',
  mtp: 'Extra heads also predict tokens further ahead; only the first head generates (Gloeckle et al. 2024).',
  diffusion:
    'Target tokens are masked at random and unmasked in any order when decoding (MDLM, HKUNLP or MLM-U, which masks the prompt too).',
  top: 'Next-token prediction plus a second head trained to rank the upcoming tokens by how soon each occurs (Zuhri et al. 2025).',
};

const LIGHT: Record<ObjectiveName, string> = {
  ntp: '#0072b2',
  reverse: '#c98a00',
  teacherless: '#009e73',
  mtp: '#cc79a7',
  diffusion: '#d55e00',
  top: '#555555',
};
const DARK: Record<ObjectiveName, string> = {
  ntp: '#56b4e9',
  reverse: '#f0b429',
  teacherless: '#2ccb98',
  mtp: '#e39ccb',
  diffusion: '#ff7f3f',
  top: '#bbbbbb',
};

export const OBJECTIVE_DASH: Record<ObjectiveName, number[]> = {
  ntp: [],
  reverse: [8, 4],
  teacherless: [2, 3],
  mtp: [10, 3, 2, 3],
  diffusion: [4, 4],
  top: [6, 2, 1, 2],
};

export function prefersDark(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

export function objectiveColor(kind: ObjectiveName, dark = prefersDark()): string {
  return (dark ? DARK : LIGHT)[kind];
}

/** A lane's label, with the knobs that distinguish it. */
export function objectiveLabel(o: ObjectiveSpec): string {
  if (o.kind === 'mtp') return `${OBJECTIVE_TITLES.mtp} (+${o.heads} heads${o.layout ? ', each its own block' : ''})`;
  if (o.kind === 'diffusion') return `${OBJECTIVE_TITLES.diffusion} (${o.variant}, ${o.decodeSteps} steps)`;
  return OBJECTIVE_TITLES[o.kind];
}
