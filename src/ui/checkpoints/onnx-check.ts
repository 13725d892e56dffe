// Runs a lane's ONNX export in the page with onnxruntime-web (WASM backend) and compares its logits with the
// trainer's own forward pass (lab.laneForward) on the same token ids: the check that the file a user downloads
// computes what the lab trained. onnxruntime-web loads on first use; its .wasm is one of the page's own static
// files (Vite copies it into the build and gives its URL), so nothing is fetched from elsewhere and the CSP only
// needs 'wasm-unsafe-eval' to compile it.
import type * as Ort from 'onnxruntime-web';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import type { LabRemote } from '../run/context';

/** Test sequences per check: a few, enough to reach every position and many vocabulary entries. */
const SEQUENCES = 4;

export interface OnnxCheck {
  /** Largest |ONNX − trainer| over every head, sequence, position and vocabulary entry. */
  maxAbsDiff: number;
  /** Logits compared. */
  count: number;
  sequences: number;
  T: number;
}

let ortModule: Promise<typeof Ort> | null = null;

function loadOrt(): Promise<typeof Ort> {
  ortModule ??= import('onnxruntime-web/wasm').then((ort) => {
    // One thread: no SharedArrayBuffer (which would need cross-origin isolation) and no extra workers.
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.wasm.wasmPaths = { wasm: new URL(wasmUrl, location.href).href };
    return ort;
  });
  ortModule.catch(() => (ortModule = null));
  return ortModule;
}

/** Token ids (SEQUENCES, T) from a fixed seed (a small LCG): the same test inputs every time. */
function testTokens(T: number, vocabSize: number): Int32Array {
  const ids = new Int32Array(SEQUENCES * T);
  let s = 12345;
  for (let i = 0; i < ids.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    ids[i] = (s >>> 8) % vocabSize;
  }
  return ids;
}

export async function checkOnnx(lab: LabRemote, lane: number, signal: AbortSignal): Promise<OnnxCheck> {
  const files = await lab.exportLane(lane);
  signal.throwIfAborted();
  const { config } = await lab.inspectCheckpoint(files.model);
  const T = config.blockSize;
  const tokens = testTokens(T, config.vocabSize);
  const trainer = await lab.laneForward(lane, tokens, SEQUENCES);
  signal.throwIfAborted();
  if (trainer.T !== T || trainer.V !== config.vocabSize) {
    throw new Error(
      `the lane's model (T=${trainer.T}, V=${trainer.V}) is not the exported one (T=${T}, V=${config.vocabSize})`,
    );
  }
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(files.onnx, { executionProviders: ['wasm'] });
  try {
    const input = new ort.Tensor(
      'int64',
      BigInt64Array.from(tokens, (t) => BigInt(t)),
      [SEQUENCES, T],
    );
    const out = await session.run({ input_ids: input });
    signal.throwIfAborted();
    // Trainer logits are (H, n, T, V); ONNX gives one (n, T, V) output per head: logits, logits_head1, …
    const per = SEQUENCES * T * trainer.V;
    let maxAbsDiff = 0;
    for (let h = 0; h < trainer.H; h++) {
      const name = h === 0 ? 'logits' : `logits_head${h}`;
      const got = out[name]?.data;
      if (!(got instanceof Float32Array) || got.length !== per)
        throw new Error(`the ONNX model has no ${name} output of ${per} floats`);
      const ref = trainer.logits.subarray(h * per, (h + 1) * per);
      for (let i = 0; i < per; i++) {
        const d = Math.abs(got[i]! - ref[i]!);
        // NaN compares false with everything; count it as an infinite difference.
        maxAbsDiff = d > maxAbsDiff || Number.isNaN(d) ? (Number.isNaN(d) ? Infinity : d) : maxAbsDiff;
      }
    }
    return { maxAbsDiff, count: per * trainer.H, sequences: SEQUENCES, T };
  } finally {
    await session.release();
  }
}
