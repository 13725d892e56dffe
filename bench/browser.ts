// The browser half of the benchmark: serve bench/index.html with Vite's dev server on localhost, open it in Debian's
// headless Chromium (software WebGPU through SwiftShader where there is no GPU) with the Playwright library, and
// run the page's runBench (bench/page.ts): TF.js and the lab alternating on one adapter.
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import type { BenchSize, Spread } from './common';

export interface BrowserPlan {
  size: BenchSize;
  /** Alternations: each round times `labSteps` lab steps, then `tfSteps` TF.js steps. */
  rounds: number;
  labSteps: number;
  tfSteps: number;
  /**
   * Run one untimed TF.js step first (shader compilation, first touch of memory). Skipped by default where one step
   * takes minutes, to keep the page run near ten minutes: the first timed step then includes TF.js's compilation.
   */
  tfWarmup: boolean;
}

export interface BrowserSizeResult {
  size: string;
  lab: Spread;
  tfjs: Spread;
  /** Median lab tokens/s over median TF.js tokens/s. */
  ratio: number;
  labLoss: number;
  tfLoss: number;
  plan: { rounds: number; labSteps: number; tfSteps: number; tfWarmup: boolean };
}

export interface BrowserBenchResult {
  userAgent: string;
  labAdapter: string;
  tfAdapter: string;
  matmulVariant: string;
  sizes: BrowserSizeResult[];
}

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

/** Launch arguments for Debian's Chromium without a GPU (as playwright.config.ts). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
];

export async function runBrowserBench(plans: BrowserPlan[], log: (line: string) => void): Promise<BrowserBenchResult> {
  const server = await createServer({
    root: BENCH_DIR,
    configFile: false,
    logLevel: 'warn',
    // A cache of its own, so that the lab's dev server (node_modules/.vite) is not disturbed.
    cacheDir: join(tmpdir(), 'webgpu-lab-bench-vite'),
    server: { host: 'localhost', port: 5190, strictPort: false, hmr: false },
    optimizeDeps: { include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu'] },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('the bench page server did not report a URL');
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => log(`  [page] ${m.text()}`));
    page.on('pageerror', (e) => log(`  [page error] ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => typeof window.runBench === 'function', null, { timeout: 180_000 });
    return await page.evaluate((p) => window.runBench(p), plans);
  } finally {
    await browser.close();
    await server.close();
  }
}
