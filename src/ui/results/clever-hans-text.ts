// The Clever Hans view's words, apart from its drawing (and from the DOM, so that they are unit-tested): the role of
// each path-star target position, what the chart can show for a task, and what one lane's evaluation shows.
import type { EvalMetrics, Probes } from '../../lab/api';
import type { ObjectiveSpec } from '../../spec/types';
import { percent } from '../app/format';

/** What each target position of a path-star path is: s source, d decision, c Clever Hans copy, g goal. */
export type PositionRole = 's' | 'd' | 'c' | 'g';

/** The role of each path-star target position: [s, d, c, …, c, g]; a path of 2 is [s, g]. */
export function pathStarRoles(pathLength: number): PositionRole[] {
  if (pathLength <= 2) return (['s', 'g'] as PositionRole[]).slice(0, pathLength);
  return Array.from({ length: pathLength }, (_, i): PositionRole =>
    i === 0 ? 's' : i === 1 ? 'd' : i === pathLength - 1 ? 'g' : 'c',
  );
}

/** "2", "2 and 3", "2–4": target positions written for a sentence. */
function positions(from: number, to: number): string {
  return from === to ? `${from}` : to === from + 1 ? `${from} and ${to}` : `${from}–${to}`;
}

/**
 * What the chart should show for this path-star task, in words: which position is the decision and its chance, which
 * positions are copies after it (and so can show the Clever Hans signature), or why this graph cannot show it.
 */
export function cleverHansText(degree: number, pathLength: number): string {
  const chance = percent(1 / degree, 0);
  const given = 'Position 0 (s) is the source and the last (g) the goal, both copied from the prompt.';
  if (pathLength <= 2)
    return `${given} With a path of ${pathLength} there is nothing to decide, so nothing to see here.`;
  const decision = `Position 1 (d) is the decision: which of the ${degree} arms leads to the goal; chance is 1/${degree} = ${chance}.`;
  if (pathLength === 3) {
    return (
      `${given} ${decision} After it comes only the goal, so teacher forcing offers no shortcut on this graph: ` +
      'teacher-forced and free-running accuracy are the same at every position, and no Clever Hans contrast can ' +
      'appear. Choose a path length of 4 or more to see it.'
    );
  }
  const last = pathLength - 2;
  return (
    `${given} ${decision} Position${last > 2 ? 's' : ''} ${positions(2, last)} (c) ${last > 2 ? 'each name' : 'names'} ` +
    'the only child of the node before, which a model given the true previous node can read off the edge list. ' +
    `Teacher forcing near 100% at c while d stays near ${chance} is the Clever Hans cheat (Bachmann & Nagarajan ` +
    '2024): the loss falls without learning which arm leads to the goal. Free running, c is right only when d was, ' +
    'so it falls to the decision’s accuracy; an objective that plans gets d right too.'
  );
}

/** Teacher-forced accuracy from which a copy position counts as learned: the signature's threshold. */
export const COPY_LEARNED = 0.95;

/**
 * What one left-to-right lane's latest evaluation shows on a path-star path of 4 or more, in words, so that the view
 * never explains a signature that is not on screen: the copies after the decision not yet learned (then there is no
 * Clever Hans signature to see, only a model that has not learned the edge look-up); the copies learned with the
 * decision near chance (the signature); or the decision learned too. Null for other tasks and orders: reversed and
 * teacherless targets, and diffusion, put other tokens at these positions.
 */
export function laneReading(
  objective: ObjectiveSpec['kind'],
  degree: number,
  pathLength: number,
  ev: Pick<EvalMetrics, 'exactMatch' | 'perPosition'>,
): string | null {
  if ((objective !== 'ntp' && objective !== 'mtp') || pathLength < 4) return null;
  const tf = ev.perPosition.teacherForced;
  const copies = tf.slice(2, pathLength - 1);
  const decision = tf[1];
  if (decision === undefined || copies.length === 0) return null;
  const name = objective === 'ntp' ? 'Next-token prediction' : 'The next-token head';
  const shown = `(teacher forcing: ${copies.map((c) => percent(c, 0)).join(', ')} at c, ${percent(decision, 0)} at d)`;
  if (Math.min(...copies) < COPY_LEARNED)
    return `${name} has not learned the edge look-up yet ${shown}; the Clever Hans signature appears once it does.`;
  if (ev.exactMatch >= 0.9) return `${name} has learned the decision as well as the copies ${shown}: it plans.`;
  // Within 0.15 of chance: the spread of a decision that follows no rule, at the test sizes the lab evaluates.
  if (Math.abs(decision - 1 / degree) <= 0.15)
    return `The Clever Hans signature: the copies are learned and the decision sits near chance ${shown}.`;
  return `${name} copies, and its decision is above chance without solving the task ${shown}.`;
}

/** One row of the probes under a lane's chart: its name, what it gives the model, and accuracy per position. */
export interface ProbeRow {
  name: string;
  about: string;
  accuracy: (number | null)[];
}

/** The probes of one evaluation as rows for the view (none for results saved before the probes existed). */
export function probeRows(probes: Probes | undefined): ProbeRow[] {
  if (!probes) return [];
  const rows: ProbeRow[] = [];
  if (probes.goalSide)
    rows.push({ name: 'goal side', about: 'the true tokens after each position given', accuracy: probes.goalSide });
  if (probes.singleMask)
    rows.push({ name: 'one masked', about: 'every other target token given', accuracy: probes.singleMask });
  probes.heads?.forEach((h, k) =>
    rows.push({ name: `head ${k + 1}`, about: `predicting from ${k + 1} token${k ? 's' : ''} back`, accuracy: h }),
  );
  return rows;
}

/**
 * What the probes say about a lane on a path-star path of 4 or more, in words: whether the model has learned the
 * one-step look-ups when the later tokens are given (then a failure is the decoder's or the order's, not the
 * look-up's), and for multi-token heads whether the next-token head, having learned the copies, sits below chance at
 * the decision. Null when
 * the lane has no probes or nothing to say.
 */
export function probeReading(
  degree: number,
  pathLength: number,
  ev: Pick<EvalMetrics, 'exactMatch' | 'probes'>,
): string | null {
  const p = ev.probes;
  if (!p || pathLength < 4) return null;
  const chance = 1 / degree;
  if (p.goalSide) {
    const inner = p.goalSide.slice(1, pathLength - 1);
    const worst = Math.min(...inner);
    if (worst >= COPY_LEARNED) {
      return ev.exactMatch >= 0.9
        ? `Given the tokens after it, every position is found (${inner.map((a) => percent(a, 0)).join(', ')}): it plans from the goal back.`
        : `Given the tokens after it, every position is found (${inner.map((a) => percent(a, 0)).join(', ')}), yet decoding fails: the look-ups are learned, the order of decoding is not.`;
    }
    if (worst <= chance + 0.15)
      return `Even with the tokens after it given, a position is found only ${percent(worst, 0)} of the time: the look-up from the goal's side is not learned yet.`;
    return null;
  }
  // Below chance only counts once the head has learned the copies: an untrained head is below chance everywhere.
  const next = p.heads?.[0];
  const decision = next?.[1];
  const copies = (next?.slice(2, pathLength - 1) ?? []).filter((a): a is number => a !== null);
  if (
    typeof decision === 'number' &&
    copies.length > 0 &&
    Math.min(...copies) >= COPY_LEARNED &&
    decision < chance - 0.15
  )
    return `The next-token head has learned the copies but is below chance at the decision (${percent(decision, 0)} against ${percent(chance, 0)}), which no objective should be: the other heads' losses may be pulling the shared trunk toward later tokens there.`;
  return null;
}
