import { CpuBackend } from './cpu-backend.js';
import { WebGpuBackend } from './webgpu-backend.js';
import type { Backend } from './backend.js';
import { captureNativeStderr, withoutDawnNotes, type FsLike } from './native-stderr.js';

/**
 * Which adapter to use. 'auto' prefers a hardware GPU, then software WebGPU, then fails (it never
 * falls back to the CPU reference silently). The pinned names select one software adapter exactly.
 */
export type AdapterChoice = 'auto' | 'gpu' | 'software' | 'cpu' | 'gl' | 'swiftshader' | 'vulkan';

const CHOICES: AdapterChoice[] = ['auto', 'gpu', 'software', 'cpu', 'gl', 'swiftshader', 'vulkan'];
const SWIFTSHADER_ICDS = [
  '/usr/lib/chromium/vk_swiftshader_icd.json',
  '/usr/lib/chromium-browser/vk_swiftshader_icd.json',
];

export interface DeviceOptions {
  adapter?: AdapterChoice;
  /**
   * Let Dawn's own start-up messages (driver feature warnings, limit notes) through to stderr.
   * By default (false) Node holds them back while the adapter is acquired (other stderr output of
   * that moment still goes out) and attaches them to the error if no adapter is found. No effect
   * in browsers.
   */
  verbose?: boolean;
}

/** Raised when no adapter of the requested kind exists; lists what was tried and how to fix it. */
export class NoAdapterError extends Error {
  constructor(choice: string, tried: string[], hint: string) {
    super(
      `causalmix: no WebGPU adapter for '${choice}'. Tried:\n  - ${tried.join('\n  - ')}\n${hint}`,
    );
    this.name = 'NoAdapterError';
  }
}

// Node ≥ 21 defines a global `navigator` too, so only `process.versions.node` tells them apart.
function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node;
}

/**
 * The adapter choice: CAUSALMIX_ADAPTER (used by tests and CI) pins what 'auto' means; an
 * explicit choice in code wins over it.
 */
export function resolveAdapterChoice(requested: AdapterChoice | undefined): AdapterChoice {
  const env = typeof process !== 'undefined' ? process.env?.CAUSALMIX_ADAPTER : undefined;
  const auto = requested === undefined || requested === 'auto';
  const choice = (auto && env && env.length > 0 ? env : (requested ?? 'auto')) as AdapterChoice;
  if (!CHOICES.includes(choice)) {
    throw new Error(
      `causalmix: unknown adapter '${choice}' (expected one of ${CHOICES.join(', ')})`,
    );
  }
  return choice;
}

/** The limits we ask for: everything the adapter allows that kernels can use. */
function wantedLimits(adapter: GPUAdapter): Record<string, number> {
  const names = [
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupSizeZ',
    'maxComputeWorkgroupStorageSize',
    'maxStorageBuffersPerShaderStage',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupsPerDimension',
  ] as const;
  const out: Record<string, number> = {};
  for (const n of names) out[n] = adapter.limits[n];
  return out;
}

function adapterName(adapter: GPUAdapter): string {
  const i = adapter.info;
  const parts = [i.description, i.device, i.vendor, i.architecture].filter(
    (s) => s && s.length > 0,
  );
  return parts.length > 0 ? parts[0] : 'unnamed WebGPU adapter';
}

/** Mesa's gallivm ends every loop of an invocation after this many iterations in total. */
const MESA_LOOP_CAP = 65535;

/**
 * The adapter's loop-iteration cap: llvmpipe (Dawn's GL adapter here) and lavapipe compile shaders
 * with Mesa's gallivm, which silently stops all loops once one invocation has run
 * LP_MAX_TGSI_LOOP_ITERATIONS of them. Real GPUs and SwiftShader have no such cap.
 */
export function loopIterationCapOf(info: { device?: string; description?: string }): number {
  const name = `${info.device ?? ''} ${info.description ?? ''}`;
  return /llvmpipe|lavapipe/i.test(name) ? MESA_LOOP_CAP : Infinity;
}

function isSoftware(adapter: GPUAdapter): boolean {
  const name =
    `${adapter.info.description} ${adapter.info.device} ${adapter.info.vendor}`.toLowerCase();
  return (
    (adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    /swiftshader|llvmpipe|lavapipe|softpipe|mesa|software/.test(name)
  );
}

/**
 * Whether an adapter rasterises on the CPU. Narrower than isSoftware (which also counts any Mesa
 * driver as a software one when choosing a hardware adapter): Mesa's GPU drivers are hardware.
 */
export function runsOnCpu(adapter: GPUAdapter): boolean {
  const i = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const name = `${i.description} ${i.device} ${i.vendor} ${i.architecture}`.toLowerCase();
  return i.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|softpipe/.test(name);
}

/**
 * Dawn instances must outlive their devices and the driver threads behind them: a collected
 * instance crashes the process (seen with llvmpipe and SwiftShader, even after the device was
 * lost or destroyed). So they live as long as the process; an instance is small.
 */
const liveInstances = new Set<unknown>();

async function openDevice(
  adapter: GPUAdapter,
  featureLevel: string,
  instance: unknown,
): Promise<Backend> {
  const device = await adapter.requestDevice({ requiredLimits: wantedLimits(adapter) });
  liveInstances.add(instance);
  const cap = loopIterationCapOf(adapter.info);
  return new WebGpuBackend(device, adapterName(adapter), featureLevel, cap, runsOnCpu(adapter));
}

type NodeGpu = { create(flags: string[]): GPU; globals: Record<string, unknown> };

async function loadDawn(): Promise<NodeGpu> {
  // A variable specifier keeps bundlers from pulling Dawn into browser builds.
  const name = 'webgpu';
  const mod = (await import(/* @vite-ignore */ name)) as NodeGpu;
  Object.assign(globalThis, mod.globals);
  return mod;
}

interface Attempt {
  label: string;
  /** the adapter, and the instance that owns it */
  run: () => Promise<[GPUAdapter | null, unknown]>;
  featureLevel: string;
  accept?: (a: GPUAdapter) => boolean;
}

async function nodeAttempts(choice: AdapterChoice): Promise<Attempt[]> {
  const dawn = await loadDawn();
  // The Vulkan loader complains on stderr without a runtime dir (harmless, but noisy).
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { existsSync } = await import('node:fs');
  const hardware: Attempt = {
    label: 'hardware GPU (Dawn default backend)',
    featureLevel: 'core',
    run: () => request(dawn.create([]), { powerPreference: 'high-performance' }),
    accept: (a) => !isSoftware(a),
  };
  const gl: Attempt = {
    label: 'OpenGL ES compatibility adapter (Mesa llvmpipe, EGL_PLATFORM=surfaceless)',
    featureLevel: 'compatibility',
    run: () => {
      process.env.EGL_PLATFORM ??= 'surfaceless';
      return request(dawn.create(['backend=opengles']), { featureLevel: 'compatibility' });
    },
  };
  const swiftshader: Attempt = {
    label: `SwiftShader Vulkan core adapter (${SWIFTSHADER_ICDS[0]}, from Debian's chromium)`,
    featureLevel: 'core',
    run: async () => {
      const icd = SWIFTSHADER_ICDS.find((p) => existsSync(p));
      if (!icd) return [null, null];
      process.env.VK_ICD_FILENAMES = icd;
      process.env.XDG_RUNTIME_DIR ??= '/tmp';
      return request(dawn.create(['backend=vulkan']), {});
    },
  };
  const vulkan: Attempt = {
    label: 'any Vulkan adapter (VK_ICD_FILENAMES as set in the environment)',
    featureLevel: 'core',
    run: () => request(dawn.create(['backend=vulkan']), {}),
  };
  switch (choice) {
    case 'gpu':
      return [hardware];
    case 'gl':
      return [gl];
    case 'swiftshader':
      return [swiftshader];
    case 'vulkan':
      return [vulkan];
    case 'software':
      return [gl, swiftshader];
    default:
      return [hardware, gl, swiftshader];
  }
}

async function request(
  gpu: GPU,
  options: GPURequestAdapterOptions,
): Promise<[GPUAdapter | null, unknown]> {
  return [await gpu.requestAdapter(options), gpu];
}

function browserAttempts(): Attempt[] {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  return [
    {
      label: 'navigator.gpu (core)',
      featureLevel: 'core',
      run: async () => (gpu ? request(gpu, { powerPreference: 'high-performance' }) : [null, null]),
    },
    {
      label: 'navigator.gpu (compatibility)',
      featureLevel: 'compatibility',
      run: async () =>
        gpu
          ? request(gpu, { featureLevel: 'compatibility' } as GPURequestAdapterOptions)
          : [null, null],
    },
  ];
}

/** Finds an adapter for `choice`, opens a device with the adapter's higher limits, or throws. */
export async function acquireBackend(options: DeviceOptions = {}): Promise<Backend> {
  const choice = resolveAdapterChoice(options.adapter);
  if (choice === 'cpu') return new CpuBackend();
  if (!isNode() || options.verbose) return firstAdapter(choice);
  // Dawn writes its start-up notes to fd 2 from native code: hold them back unless verbose
  const fs = (await import('node:fs')) as unknown as FsLike;
  const { tmpdir } = await import('node:os');
  const tmp = `${tmpdir()}/causalmix-dawn-${process.pid}-${Date.now()}.log`;
  const r = await captureNativeStderr(fs, tmp, () => firstAdapter(choice));
  // anything else written to stderr meanwhile (not Dawn's) goes out as it would have
  const others = withoutDawnNotes(r.text);
  if (others !== '') process.stderr.write(others);
  if (r.error === undefined) return r.value!;
  if (r.error instanceof NoAdapterError && r.text.trim() !== '')
    r.error.message += `\nDawn said:\n${r.text.trimEnd()}`;
  throw r.error;
}

async function firstAdapter(choice: AdapterChoice): Promise<Backend> {
  const attempts = isNode() ? await nodeAttempts(choice) : browserAttempts();
  const tried: string[] = [];
  for (const a of attempts) {
    try {
      const [adapter, instance] = await a.run();
      if (!adapter) {
        tried.push(`${a.label}: no adapter`);
        continue;
      }
      if (a.accept && !a.accept(adapter)) {
        tried.push(`${a.label}: only a software adapter (${adapterName(adapter)})`);
        continue;
      }
      const level = (adapter as { featureLevel?: string }).featureLevel ?? a.featureLevel;
      return await openDevice(adapter, level, instance);
    } catch (e) {
      tried.push(`${a.label}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const hint = isNode()
    ? "Fix: on Linux without a GPU, Mesa's EGL/GLES (libegl1, libgles2, libgl1-mesa-dri) gives the 'gl' adapter, and " +
      "`apt-get install chromium libvulkan1` gives 'swiftshader'; or pass adapter: 'cpu' for the float64 reference backend."
    : "Fix: use a browser with WebGPU enabled (Chrome/Edge 113+, Safari 26+, Firefox 141+), or pass adapter: 'cpu'.";
  throw new NoAdapterError(choice, tried, hint);
}
