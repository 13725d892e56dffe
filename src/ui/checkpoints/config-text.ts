// How the checkpoint panel names a model config. Which lane a checkpoint fits is the lab's to say
// (LabApi.matchCheckpoint, src/lab/checkpoint-match.ts): it builds the task, which the page's thread never does.
import type { ModelConfig } from '../../model/config';

/** The config in a line: "1 layer, width 16, 1 head · vocabulary 13, sequence 9, causal attention". */
export function configText(c: ModelConfig): string {
  const extra = c.extraHeads > 0 ? `, ${c.extraHeads} extra heads` : '';
  return (
    `${c.nLayer} layer${c.nLayer > 1 ? 's' : ''}, width ${c.nEmbd}, ${c.nHead} head${c.nHead > 1 ? 's' : ''}${extra}` +
    ` · vocabulary ${c.vocabSize}, sequence ${c.blockSize}, ${c.attention} attention`
  );
}
