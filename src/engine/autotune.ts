// Every kernel choice the lab makes per adapter, in one place: the matmul variant (matmul-variants.ts), the row
// reductions (reduction-variants.ts) and the storage of the MLP's half activations (activation-storage.ts). Each is
// known for some adapters and timed on the others, once: the three names are kept as one entry per adapter in a
// VariantCache (IndexedDB in the page: src/lab/store.ts; a JSON file for the command line:
// node-variant-cache.ts), which later runs on that adapter read instead of timing.
import { deviceAdapter, MemoryVariantCache, type AdapterIdentity, type VariantCache } from './adapter';
import { chooseActivationStorage, type StorageChoice } from './activation-storage';
import { chooseMatmulVariant, type VariantChoice } from './matmul-variants';
import { chooseReductionVariant, type ReductionChoice } from './reduction-variants';

export interface KernelChoices {
  matmul: VariantChoice;
  reduction: ReductionChoice;
  activations: StorageChoice;
}

/** An adapter's cache entry: the names chosen; the activations' storage with the matmul variant it was timed on. */
export interface KernelEntry {
  matmul?: string;
  reduction?: string;
  activations?: { matmul: string; storage: string };
}

/**
 * The cache key of an adapter. The generation names the kernels': bump it when a kernel changes in a way that could
 * change a choice, and every adapter is timed again.
 */
export const kernelCacheKey = (a: AdapterIdentity | null): string =>
  `kernels-v1|${a?.vendor ?? ''}|${a?.architecture ?? ''}|${a?.description ?? ''}`;

/** An entry as the cache holds it (JSON text); anything that does not read as one is an empty entry. */
export function readKernelEntry(text: string | undefined): KernelEntry {
  try {
    const e = JSON.parse(text ?? '') as unknown;
    if (typeof e !== 'object' || e === null) return {};
    const { matmul, reduction, activations } = e as Record<string, unknown>;
    const acts = activations as Record<string, unknown> | undefined;
    return {
      ...(typeof matmul === 'string' ? { matmul } : {}),
      ...(typeof reduction === 'string' ? { reduction } : {}),
      ...(typeof acts?.['matmul'] === 'string' && typeof acts['storage'] === 'string'
        ? { activations: { matmul: acts['matmul'], storage: acts['storage'] } }
        : {}),
    };
  } catch {
    return {};
  }
}

/** Keep these choices' names as the adapter's entry (the tests preset untimed choices through it). */
export async function writeKernelEntry(
  cache: VariantCache,
  adapter: AdapterIdentity | null,
  names: { matmul: string; reduction: string; storage: string },
): Promise<void> {
  const entry: KernelEntry = {
    matmul: names.matmul,
    reduction: names.reduction,
    activations: { matmul: names.matmul, storage: names.storage },
  };
  await cache.set(kernelCacheKey(adapter), JSON.stringify(entry));
}

/** For the whole process where the caller gives no cache: a second device on one adapter is not re-timed. */
const processCache = new MemoryVariantCache();

/**
 * The kernel choices for this device, before any GpuModel is built on it: read from the adapter's entry, and what
 * it lacks (or names no longer) chosen now, one after the other (timing two at once would time each against the
 * other's work); the activations' storage on the chosen matmul variant, whose kernels do its loads and stores. The
 * entry is written back when anything was timed. A cache that cannot be read or written only costs the timing.
 * `probes` shrink the timings (tests).
 */
export async function tuneKernels(
  device: GPUDevice,
  adapter: AdapterIdentity | null = deviceAdapter(device),
  options: {
    cache?: VariantCache;
    probes?: {
      matmul?: { rows: number; width: number; repeats: number };
      reduction?: { rows: number; width: number; vocab: number; repeats: number };
      activations?: { rows: number; width: number; repeats: number };
    };
  } = {},
): Promise<KernelChoices> {
  const cache = options.cache ?? processCache;
  const key = kernelCacheKey(adapter);
  const entry = readKernelEntry(await cache.get(key).catch(() => undefined));
  const probes = options.probes ?? {};
  const matmul = await chooseMatmulVariant(device, adapter, { cached: entry.matmul, probe: probes.matmul });
  const reduction = await chooseReductionVariant(device, adapter, { cached: entry.reduction, probe: probes.reduction });
  const storedFor = entry.activations?.matmul === matmul.variant.name ? entry.activations.storage : undefined;
  const activations = await chooseActivationStorage(
    device,
    matmul.variant,
    { cached: storedFor, probe: probes.activations },
    adapter,
  );
  if ([matmul.source, reduction.source, activations.source].includes('timed')) {
    const names = { matmul: matmul.variant.name, reduction: reduction.variant.name, storage: activations.storage };
    await writeKernelEntry(cache, adapter, names).catch(() => undefined);
  }
  return { matmul, reduction, activations };
}
