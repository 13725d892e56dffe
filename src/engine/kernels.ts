// Every kernel of the model, declared once: WGSL source, entry point, binding kinds. The GPU model and the kernel
// tests both bind these, so a test exercises exactly the pipeline that training runs.
import adamwWgsl from '../../shaders/adamw.wgsl?raw';
import attentionBackwardWgsl from '../../shaders/attention_backward.wgsl?raw';
import attentionForwardWgsl from '../../shaders/attention_forward.wgsl?raw';
import biasBackwardWgsl from '../../shaders/bias_backward.wgsl?raw';
import crossentropyWgsl from '../../shaders/crossentropy.wgsl?raw';
import encoderBackwardWgsl from '../../shaders/encoder_backward.wgsl?raw';
import encoderForwardWgsl from '../../shaders/encoder_forward.wgsl?raw';
import geluWgsl from '../../shaders/gelu.wgsl?raw';
import layernormBackwardWgsl from '../../shaders/layernorm_backward.wgsl?raw';
import layernormForwardWgsl from '../../shaders/layernorm_forward.wgsl?raw';
import matmulWgsl from '../../shaders/matmul.wgsl?raw';
import reduceWgsl from '../../shaders/reduce.wgsl?raw';
import residualWgsl from '../../shaders/residual.wgsl?raw';
import type { KernelDef } from './kernel';
import type { MatmulVariant } from './matmul-variants';

export const K = {
  encoderForward: { label: 'encoder_forward', code: encoderForwardWgsl, entryPoint: 'main', bindings: ['uniform', 'read', 'read', 'read', 'rw'] },
  wteGrad: { label: 'encoder_backward', code: encoderBackwardWgsl, entryPoint: 'wte_grad', bindings: ['uniform', 'read', 'read', 'rw', 'rw'] },
  wpeGrad: { label: 'encoder_backward', code: encoderBackwardWgsl, entryPoint: 'wpe_grad', bindings: ['uniform', 'read', 'read', 'rw', 'rw'] },
  layernormForward: { label: 'layernorm_forward', code: layernormForwardWgsl, entryPoint: 'main', bindings: ['uniform', 'read', 'read', 'read', 'rw', 'rw', 'rw'] },
  layernormDinput: { label: 'layernorm_backward', code: layernormBackwardWgsl, entryPoint: 'dinput', bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'] },
  layernormDparams: { label: 'layernorm_backward', code: layernormBackwardWgsl, entryPoint: 'dparams', bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw', 'rw'] },
  biasBackward: { label: 'bias_backward', code: biasBackwardWgsl, entryPoint: 'main', bindings: ['uniform', 'read', 'rw'] },
  attentionSoftmax: { label: 'attention_forward', code: attentionForwardWgsl, entryPoint: 'softmax', bindings: ['uniform', 'read', 'rw', 'rw'] },
  attentionValues: { label: 'attention_forward', code: attentionForwardWgsl, entryPoint: 'values', bindings: ['uniform', 'read', 'rw', 'rw'] },
  attentionDscores: { label: 'attention_backward', code: attentionBackwardWgsl, entryPoint: 'dscores', bindings: ['uniform', 'read', 'read', 'read', 'rw', 'rw'] },
  attentionDqkv: { label: 'attention_backward', code: attentionBackwardWgsl, entryPoint: 'dqkv_main', bindings: ['uniform', 'read', 'read', 'read', 'rw', 'rw'] },
  geluForward: { label: 'gelu', code: geluWgsl, entryPoint: 'forward', bindings: ['uniform', 'read', 'rw'] },
  geluBackward: { label: 'gelu', code: geluWgsl, entryPoint: 'backward', bindings: ['uniform', 'read', 'rw'] },
  residualForward: { label: 'residual', code: residualWgsl, entryPoint: 'forward', bindings: ['uniform', 'read', 'read', 'rw'] },
  residualAccumulate: { label: 'residual', code: residualWgsl, entryPoint: 'accumulate', bindings: ['uniform', 'read', 'read', 'rw'] },
  crossentropy: { label: 'crossentropy', code: crossentropyWgsl, entryPoint: 'main', bindings: ['uniform', 'rw', 'read', 'read', 'rw'] },
  adamw: { label: 'adamw', code: adamwWgsl, entryPoint: 'main', bindings: ['uniform', 'rw', 'read', 'rw', 'rw', 'read', 'read'] },
} satisfies Record<string, KernelDef>;

export const reduceKernel = (entryPoint: 'partial' | 'finalize', square: boolean): KernelDef => ({
  label: 'reduce',
  code: reduceWgsl,
  entryPoint,
  bindings: ['uniform', 'read', 'rw', 'rw'],
  constants: { SQUARE: square ? 1 : 0 },
});


/** C (M,N) = op(A)·op(B) [+ bias] [+= C]; see shaders/matmul.wgsl. */
export function matmulKernel(flags: { transA?: boolean; transB?: boolean; bias?: boolean; accumulate?: boolean }, v: MatmulVariant): KernelDef {
  return {
    label: 'matmul',
    code: matmulWgsl,
    entryPoint: 'main',
    bindings: ['uniform', 'read', 'read', 'read', 'rw'],
    constants: {
      TRANS_A: flags.transA ? 1 : 0,
      TRANS_B: flags.transB ? 1 : 0,
      HAS_BIAS: flags.bias ? 1 : 0,
      ACCUMULATE: flags.accumulate ? 1 : 0,
      WG_X: v.wgX,
      WG_Y: v.wgY,
    },
  };
}

/** Workgroup counts of a matmul producing an (M,N) output: each thread owns a 4×4 block. */
export function matmulGrid(M: number, N: number, v: MatmulVariant): [number, number, number] {
  return [Math.ceil(N / 4 / v.wgX), Math.ceil(M / 4 / v.wgY), 1];
}
