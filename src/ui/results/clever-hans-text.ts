// The Clever Hans view's words, apart from its drawing (and from the DOM, so that they are unit-tested): the role of
// each path-star target position, what the chart can show for a task, and what one lane's evaluation shows.
import type { EvalMetrics } from '../../lab/api';
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
