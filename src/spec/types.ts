// What an experiment is: the task, the objectives side by side, the model size, the training settings and how it
// is evaluated. Plain data (JSON in links, files, checkpoints and the PyTorch export); every layer that reads a spec
// imports these types from here, and src/spec/check.ts is the one place that says whether a spec can run.
import type { TrainConfig } from '../model/config';

/** B&N's path-star graph: find the arm of a star that leads from the source to the goal. */
export interface PathStarSpec {
  kind: 'path-star';
  /** Arms leaving the source. */
  degree: number;
  /** Nodes on the path from source to goal, both included (B&N's pathLen). */
  pathLength: number;
  /** Size of the node-label pool. */
  nodes: number;
  /** Fixed training-set size (as B&N); 0 means fresh graphs every step. */
  trainSize: number;
  testSize: number;
}

/** Multi-digit addition, a+b=. */
export interface AdditionSpec {
  kind: 'addition';
  digits: number;
  /** Output digits least-significant first (Lee et al. 2024). */
  reversed: boolean;
  trainSize: number;
  testSize: number;
}

/** The user's own prompt/target pairs. */
export interface CustomSpec {
  kind: 'custom';
  /** One `prompt<TAB or =>target` pair a line; character tokens. See src/tasks/custom.ts. */
  text: string;
  /** Fraction of pairs held out for testing. */
  testFraction: number;
}

export type TaskSpec = PathStarSpec | AdditionSpec | CustomSpec;

/** The diffusion objective's masking and weighting (src/objectives/diffusion.ts). */
export type DiffusionVariant = 'mdlm' | 'hkunlp' | 'mlmu';

export type ObjectiveSpec =
  | { kind: 'ntp' }
  | { kind: 'reverse' }
  | { kind: 'teacherless' }
  /**
   * Token order prediction (Zuhri et al. 2025): next-token prediction plus a second unembedding on the same final
   * LayerNorm output, trained with a ListNet loss to rank the upcoming tokens by how soon each next occurs.
   */
  | { kind: 'top' }
  | {
      kind: 'mtp';
      /** Heads in all, the next-token head included, as the papers count them (default 4). */ heads: number;
      /**
       * Where the next-token head sits: on the trunk, with the other heads one block each on top of it (absent, the
       * lab's first layout), or one block of its own like every other head ('gloeckle': Gloeckle et al. 2024's n
       * heads, each its own transformer layer over a shared trunk).
       */
      layout?: 'gloeckle';
    }
  | {
      kind: 'diffusion';
      /** Unmasking steps when decoding. */
      decodeSteps: number;
      /**
       * What is masked and how it is weighted: MDLM (Sahoo et al. 2024), HKUNLP's (Ye et al. 2025), or MLM-U
       * (Kitouni et al. 2024: the whole sequence, prompt included, at one uniform rate; plain mean cross-entropy).
       */
      variant: DiffusionVariant;
    };

export interface ModelSize {
  nLayer: number;
  nEmbd: number;
  nHead: number;
}

export interface ExperimentSpec {
  task: TaskSpec;
  objectives: ObjectiveSpec[];
  model: ModelSize;
  train: TrainConfig;
  /** Evaluate on the test set every this many steps (and at the end). */
  evalEvery: number;
  /** Test examples used by each evaluation (at most the test set). */
  evalExamples: number;
}

/** A problem with a spec, tied to the field the page shows it next to. */
export interface SpecIssue {
  /** Dotted path of the field, e.g. `task.degree`, `model.nHead`, `train.lr`. */
  field: string;
  message: string;
}
