// A task from the user's own text: one `prompt<TAB>target` or `prompt => target` pair a line, character tokens.
//
// - A TAB separates at the first TAB, taken literally (spaces are characters). Without a TAB, the first `=>`
//   separates and the whitespace around it is trimmed. Blank lines are skipped; a trailing `\r` is dropped.
// - Vocabulary: the sorted set of characters (Unicode code points) of all pairs, then dummy, mask, pad.
// - Prompts are left-padded and targets right-padded with pad to the longest of each. Pad targets carry no loss
//   (objectives give them weight 0) and metrics ignore them.
// - Pairs with the same prompt stay together, so no test prompt is ever seen in training.
import { Rng } from '../model/rng';
import { joinTokens, SPECIAL_DISPLAY, SPECIAL_DISPLAY_LONG } from './display';
import { checkTaskField, TaskSpecError } from './spec-error';
import type { CustomSpec } from '../spec/types';
import type { Example, Task } from './types';

export type { CustomSpec } from '../spec/types';

/** Longest prompt + target, in characters, that one line may hold. */
export const CUSTOM_MAX_LINE_TOKENS = 256;

export interface CustomPair {
  prompt: string[];
  target: string[];
  /** 1-based line number in the text, for messages. */
  line: number;
}

/** Parse the text into pairs of code-point arrays; throws TaskSpecError (field `task.text`) naming the line. */
export function parseCustomPairs(text: string): CustomPair[] {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new TaskSpecError('task.text', 'is empty; write one `prompt<TAB>target` or `prompt => target` pair a line');
  }
  const pairs: CustomPair[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (s.trim() === '') return;
    let prompt: string;
    let target: string;
    const tab = s.indexOf('\t');
    const arrow = s.indexOf('=>');
    if (tab >= 0) {
      prompt = s.slice(0, tab);
      target = s.slice(tab + 1);
    } else if (arrow >= 0) {
      prompt = s.slice(0, arrow).trim();
      target = s.slice(arrow + 2).trim();
    } else {
      throw new TaskSpecError(
        'task.text',
        `line ${line} has no separator; use a TAB or \`=>\` between prompt and target`,
      );
    }
    const p = Array.from(prompt);
    const t = Array.from(target);
    if (p.length === 0) throw new TaskSpecError('task.text', `line ${line} has an empty prompt`);
    if (t.length === 0) throw new TaskSpecError('task.text', `line ${line} has an empty target`);
    const bad = [...p, ...t].find((c) => /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u.test(c));
    if (bad !== undefined) {
      const code = bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      throw new TaskSpecError('task.text', `line ${line} contains the non-printable character U+${code}`);
    }
    if (p.length + t.length > CUSTOM_MAX_LINE_TOKENS) {
      throw new TaskSpecError(
        'task.text',
        `line ${line} has ${p.length + t.length} characters; at most ${CUSTOM_MAX_LINE_TOKENS} per prompt and target`,
      );
    }
    pairs.push({ prompt: p, target: t, line });
  });
  return pairs;
}

/** Throws TaskSpecError naming the first bad field; returns the parsed pairs. */
export function validateCustomSpec(spec: CustomSpec): CustomPair[] {
  checkTaskField('task.testFraction', spec.testFraction);
  const pairs = parseCustomPairs(spec.text);
  const prompts = new Set(pairs.map((p) => p.prompt.join(''))).size;
  if (prompts < 2) {
    throw new TaskSpecError(
      'task.text',
      `has ${prompts} distinct prompt(s); at least 2 are needed to hold out a test set and keep a training set`,
    );
  }
  return pairs;
}

export function customTask(spec: CustomSpec, seed: number): Task {
  const pairs = validateCustomSpec(spec);

  const chars = [...new Set(pairs.flatMap((p) => [...p.prompt, ...p.target]))].sort((a, b) =>
    a.codePointAt(0)! < b.codePointAt(0)! ? -1 : 1,
  );
  const display = [SPECIAL_DISPLAY.dummy, SPECIAL_DISPLAY.mask, SPECIAL_DISPLAY.pad].some((s) => chars.includes(s))
    ? SPECIAL_DISPLAY_LONG
    : SPECIAL_DISPLAY;
  const vocab = [...chars, display.dummy, display.mask, display.pad];
  const special = { dummy: chars.length, mask: chars.length + 1, pad: chars.length + 2 };
  const id = new Map(chars.map((c, i) => [c, i]));

  const promptLength = Math.max(...pairs.map((p) => p.prompt.length));
  const targetLength = Math.max(...pairs.map((p) => p.target.length));
  const toExample = (p: CustomPair): Example => ({
    prompt: [
      ...new Array<number>(promptLength - p.prompt.length).fill(special.pad),
      ...p.prompt.map((c) => id.get(c)!),
    ],
    target: [
      ...p.target.map((c) => id.get(c)!),
      ...new Array<number>(targetLength - p.target.length).fill(special.pad),
    ],
  });

  // Split by prompt: shuffle the distinct prompts with the seed and hold out the first ones.
  const groups = new Map<string, Example[]>();
  for (const p of pairs) {
    const key = p.prompt.join('');
    const group = groups.get(key) ?? [];
    group.push(toExample(p));
    groups.set(key, group);
  }
  const keys = new Rng(seed).shuffle([...groups.keys()]);
  const testPrompts = Math.min(keys.length - 1, Math.max(1, Math.round(spec.testFraction * keys.length)));
  const test = keys.slice(0, testPrompts).flatMap((k) => groups.get(k)!);
  const train = keys.slice(testPrompts).flatMap((k) => groups.get(k)!);

  return {
    name: `custom (${pairs.length} pairs)`,
    vocab,
    special,
    promptLength,
    targetLength,
    sampleTrain: (rng, n) => Array.from({ length: n }, () => train[rng.int(train.length)]!),
    test,
    format: (tokens) => joinTokens(vocab, special.pad, tokens),
  };
}
