/**
 * The parameter arena and its optimizer (shaders/optim.wgsl). All parameters live in one flat
 * buffer (and their gradients, first and second moments in three more), each as a segment starting
 * at a multiple of 256 elements, so that global-norm clipping over groups of parameters and a
 * fused AdamW step over every parameter take two dispatches in total.
 */
import type { Engine } from '../engine/engine.js';
import { defineKernel, linearGrid } from '../engine/kernel.js';
import { uniformLayout, type UniformValues } from '../engine/kernel-interface.js';
import { formatShape, numel, sameShape, type Shape } from '../engine/shape.js';
import type { Tensor } from '../engine/tensor.js';

const CHUNK = 256;
/** config slots before the per-segment weight decays */
const HYPER = 8;

export interface ParamSpec {
  name: string;
  shape: Shape;
  /** initial values (row-major); zeros when omitted */
  init?: ArrayLike<number>;
  /** clip group index (see `clipNorms`); default 0 */
  group?: number;
  /** AdamW weight decay for this parameter (default: the optimizer's) */
  weightDecay?: number;
  /** L1 penalty weight: the loss gets l1·Σ|θ| (its gradient is added before clipping) */
  l1?: number;
  /** L2 penalty weight: the loss gets l2·Σθ² (unlike weight decay, this is clipped and Adam-scaled) */
  l2?: number;
}

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** max global norm per clip group (index = group); 0 or missing = no clipping for that group */
  clipNorms?: number[];
  /** clip all parameters jointly to this norm instead (overrides clipNorms) */
  clipGlobal?: number;
}

interface Segment {
  spec: ParamSpec;
  offset: number;
  length: number;
  group: number;
}

const uniforms = uniformLayout('optim', 'ArenaUniforms', {
  /** parameter segments */
  segments: 'u32',
  /** clip groups */
  groups: 'u32',
  /** 256-element chunks of the arena */
  chunks: 'u32',
  /** 1: seg_sumsq adds the L1/L2 penalty gradients and values first */
  penalise: 'u32',
});
type ArenaParams = UniformValues<typeof uniforms.fields>;

const fillUniforms = uniformLayout(
  'optim',
  'FillUniforms',
  {
    /** elements */
    n: 'u32',
    value: 'f32',
  },
  'uf',
);

// ---- float64 references (same layout as the WGSL) -----------------------------------------------

function segOf(layout: Float64Array, s: number) {
  return { offset: layout[4 * s], length: layout[4 * s + 1], group: layout[4 * s + 2] };
}

function clipScale64(
  layout: Float64Array,
  config: Float64Array,
  partial: Float64Array,
  nSeg: number,
  s: number,
): number {
  const global = config[6] === 1;
  const g = global ? 0 : segOf(layout, s).group;
  const maxNorm = config[HYPER + nSeg + g];
  if (maxNorm <= 0) return 1;
  let sq = 0;
  for (let t = 0; t < nSeg; t++) if (global || segOf(layout, t).group === g) sq += partial[t];
  return Math.min(1, maxNorm / (Math.sqrt(sq) + 1e-6));
}

/** Visits every arena element that belongs to a segment (padding is skipped). */
function forEachElement(
  layout: Float64Array,
  p: ArenaParams,
  fn: (i: number, s: number) => void,
): void {
  const { segments: nSeg, chunks: nChunks } = p;
  for (let c = 0; c < nChunks; c++) {
    const s = layout[4 * nSeg + c];
    const { offset, length } = segOf(layout, s);
    for (let i = c * CHUNK; i < Math.min((c + 1) * CHUNK, offset + length); i++) fn(i, s);
  }
}

export const segSumSqKernel = defineKernel({
  name: 'seg_sumsq',
  shader: 'optim',
  entryPoint: 'seg_sumsq',
  uniforms,
  inputs: ['layout', 'config', 'param'],
  outputs: ['grad', 'partial'],
  workgroupSize: [256],
  cpu: ([layout, config, param], [grad, partial], p) => {
    const { segments: nSeg, groups: nGroups } = p;
    const penalise = p.penalise === 1;
    for (let s = 0; s < nSeg; s++) {
      const { offset, length } = segOf(layout, s);
      const base = HYPER + nSeg + nGroups + 2 * s;
      const [l1, l2] = penalise ? [config[base], config[base + 1]] : [0, 0];
      let acc = 0;
      let pen = 0;
      for (let i = offset; i < offset + length; i++) {
        if (penalise) {
          const w = param[i];
          grad[i] += l1 * Math.sign(w) + 2 * l2 * w;
          pen += l1 * Math.abs(w) + l2 * w * w;
        }
        acc += grad[i] * grad[i];
      }
      partial[s] = acc;
      partial[nSeg + s] = pen;
    }
  },
});

export const adamwKernel = defineKernel({
  name: 'adamw',
  shader: 'optim',
  entryPoint: 'adamw',
  uniforms,
  inputs: ['layout', 'config', 'partial', 'grad'],
  outputs: ['param', 'm', 'v'],
  workgroupSize: [256],
  cpu: ([layout, config, partial, grad], [param, m, v], p) => {
    const nSeg = p.segments;
    const [lr, b1, b2, eps, bias1, bias2] = config;
    const scales = Array.from({ length: nSeg }, (_, s) =>
      clipScale64(layout, config, partial, nSeg, s),
    );
    forEachElement(layout, p, (i, s) => {
      const g = grad[i] * scales[s];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const decayed = param[i] * (1 - lr * config[HYPER + s]);
      param[i] = decayed - (lr / bias1) * (m[i] / (Math.sqrt(v[i]) / Math.sqrt(bias2) + eps));
    });
  },
});

export const clipGradsKernel = defineKernel({
  name: 'clip_grads',
  shader: 'optim',
  entryPoint: 'clip_grads',
  uniforms,
  inputs: ['layout', 'config', 'partial'],
  outputs: ['grad'],
  workgroupSize: [256],
  cpu: ([layout, config, partial], [grad], p) => {
    const nSeg = p.segments;
    const scales = Array.from({ length: nSeg }, (_, s) =>
      clipScale64(layout, config, partial, nSeg, s),
    );
    forEachElement(layout, p, (i, s) => (grad[i] *= scales[s]));
  },
});

export const fillKernel = defineKernel({
  name: 'fill',
  shader: 'optim',
  entryPoint: 'fill',
  uniforms: fillUniforms,
  inputs: [],
  outputs: ['out'],
  workgroupSize: [256],
  cpu: (_, [out], { n, value }) => out.fill(value, 0, n),
});

/** Fills `t` with `value` on the device (recordable, unlike host writes). */
export function fill(t: Tensor, value: number): void {
  t.engine.run(fillKernel, [], [t], { n: t.size, value }, linearGrid(t.size, CHUNK));
}

/**
 * Parameters, gradients and AdamW moments in four flat buffers. `param(name)` tensors are views
 * into the arena (they require gradients); `setGrads` gathers a backward pass's gradients into the
 * gradient arena; `step` clips and updates everything in two dispatches.
 */
export class ParameterArena {
  readonly size: number;
  private readonly segments: Segment[] = [];
  private readonly views = new Map<string, Tensor>();
  private readonly gradViews = new Map<string, Tensor>();
  private readonly params: Tensor;
  private readonly grads: Tensor;
  private readonly m: Tensor;
  private readonly v: Tensor;
  private readonly layout: Tensor;
  private readonly config: Tensor;
  private readonly partial: Tensor;
  private readonly nGroups: number;
  private readonly nChunks: number;
  private configValues: Float64Array;
  /** AdamW steps taken (bias correction uses it) */
  stepCount = 0;

  constructor(
    readonly engine: Engine,
    specs: ParamSpec[],
    defaults: { weightDecay?: number; l1?: number; l2?: number } = {},
  ) {
    if (specs.length === 0)
      throw new Error('causalmix: a parameter arena needs at least one parameter');
    let offset = 0;
    const names = new Set<string>();
    for (const spec of specs) {
      if (names.has(spec.name))
        throw new Error(`causalmix: parameter '${spec.name}' is declared twice`);
      names.add(spec.name);
      const length = numel(spec.shape);
      if (spec.init && spec.init.length !== length) {
        throw new Error(
          `causalmix: parameter '${spec.name}' ${formatShape(spec.shape)} got ${spec.init.length} initial values`,
        );
      }
      this.segments.push({ spec, offset, length, group: spec.group ?? 0 });
      offset += Math.max(1, Math.ceil(length / CHUNK)) * CHUNK;
    }
    this.size = offset;
    this.nChunks = offset / CHUNK;
    this.nGroups = Math.max(...this.segments.map((s) => s.group)) + 1;

    const init = new Float64Array(offset);
    this.segments.forEach((s) => s.spec.init && init.set(Array.from(s.spec.init), s.offset));
    this.params = engine.keep(engine.tensor(init, [offset]));
    this.grads = engine.keep(engine.zeros([offset]));
    this.m = engine.keep(engine.zeros([offset]));
    this.v = engine.keep(engine.zeros([offset]));

    const nSeg = this.segments.length;
    const layout = new Float64Array(4 * nSeg + this.nChunks);
    this.segments.forEach((s, i) => layout.set([s.offset, s.length, s.group, 0], 4 * i));
    this.segments.forEach((s, i) => {
      for (let c = s.offset / CHUNK; c < (s.offset + Math.max(s.length, 1)) / CHUNK; c++)
        layout[4 * nSeg + c] = i;
    });
    this.layout = engine.keep(engine.tensor(layout, [layout.length], 'int32'));
    this.configValues = new Float64Array(HYPER + nSeg + this.nGroups + 2 * nSeg);
    this.configValues.set([0, 0.9, 0.999, 1e-8, 1, 1]);
    this.segments.forEach(
      (s, i) => (this.configValues[HYPER + i] = s.spec.weightDecay ?? defaults.weightDecay ?? 0),
    );
    this.segments.forEach((s, i) => {
      const base = HYPER + nSeg + this.nGroups + 2 * i;
      this.configValues[base] = s.spec.l1 ?? defaults.l1 ?? 0;
      this.configValues[base + 1] = s.spec.l2 ?? defaults.l2 ?? 0;
    });
    this.config = engine.keep(engine.tensor(this.configValues, [this.configValues.length]));
    this.partial = engine.keep(engine.zeros([2 * nSeg]));

    for (const s of this.segments) {
      this.views.set(
        s.spec.name,
        engine.keep(engine.sliceView(this.params, s.offset, s.spec.shape)).requireGrad(),
      );
      this.gradViews.set(
        s.spec.name,
        engine.keep(engine.sliceView(this.grads, s.offset, s.spec.shape)),
      );
    }
  }

  /** The parameter tensor (a view into the arena, updated in place by `step`). */
  param(name: string): Tensor {
    const t = this.views.get(name);
    if (!t) throw new Error(`causalmix: no parameter named '${name}'`);
    return t;
  }

  /** The gradient slot of a parameter (filled by `setGrads`). */
  grad(name: string): Tensor {
    const t = this.gradViews.get(name);
    if (!t) throw new Error(`causalmix: no parameter named '${name}'`);
    return t;
  }

  get names(): string[] {
    return this.segments.map((s) => s.spec.name);
  }

  /**
   * Writes a backward pass's gradients into the gradient arena: parameters absent from `grads`
   * get zeros. One buffer copy per parameter, plus one fill dispatch when some are absent.
   */
  setGrads(grads: Map<Tensor, Tensor>): void {
    // Zeros are only needed where a parameter got no gradient (the copies overwrite the rest).
    if (this.segments.some((s) => !grads.has(this.views.get(s.spec.name)!))) fill(this.grads, 0);
    for (const s of this.segments) {
      const g = grads.get(this.views.get(s.spec.name)!);
      if (!g) continue;
      if (!sameShape(g.shape, s.spec.shape)) {
        throw new Error(
          `causalmix: gradient of '${s.spec.name}' has shape ${formatShape(g.shape)}, expected ${formatShape(s.spec.shape)}`,
        );
      }
      this.engine.copy(g, this.gradViews.get(s.spec.name)!);
    }
  }

  private params64(penalise = 0): ArenaParams {
    return {
      segments: this.segments.length,
      groups: this.nGroups,
      chunks: this.nChunks,
      penalise,
    };
  }

  /**
   * Sets the step's hyper-parameters (host write, before the work that uses them is submitted).
   * Called by `step` outside recording; a recorded program calls it before each `run()`.
   */
  setHyper(o: AdamWOptions): void {
    this.stepCount++;
    const b1 = o.beta1 ?? 0.9;
    const b2 = o.beta2 ?? 0.999;
    const c = this.configValues;
    c.set([o.lr, b1, b2, o.eps ?? 1e-8, 1 - b1 ** this.stepCount, 1 - b2 ** this.stepCount]);
    const nSeg = this.segments.length;
    if (o.weightDecay !== undefined)
      this.segments.forEach((s, i) => (c[HYPER + i] = s.spec.weightDecay ?? o.weightDecay!));
    c[6] = o.clipGlobal !== undefined ? 1 : 0;
    for (let g = 0; g < this.nGroups; g++)
      c[HYPER + nSeg + g] = o.clipGlobal !== undefined ? o.clipGlobal : (o.clipNorms?.[g] ?? 0);
    this.config.write(c);
  }

  /** Forgets the AdamW moments and step count (a fresh optimizer over the same parameters). */
  resetOptimizer(): void {
    fill(this.m, 0);
    fill(this.v, 0);
    this.stepCount = 0;
  }

  /**
   * Queues the sums of squares per parameter (the clipping norms' inputs): one dispatch. With
   * `penalise` it first adds the L1/L2 penalty gradients and records the penalty values.
   */
  private sumSquares(penalise: boolean): void {
    this.engine.run(
      segSumSqKernel,
      [this.layout, this.config, this.params],
      [this.grads, this.partial],
      this.params64(penalise ? 1 : 0),
      linearGrid(this.segments.length, 1),
    );
  }

  /**
   * Queues penalties + clipping + AdamW on the current gradients: two dispatches, no host work.
   * The L1/L2 penalties (ParamSpec l1/l2) are added to the gradients before clipping.
   */
  queueStep(): void {
    this.sumSquares(true);
    this.engine.run(
      adamwKernel,
      [this.layout, this.config, this.partial, this.grads],
      [this.params, this.m, this.v],
      this.params64(),
      linearGrid(this.nChunks, 1),
    );
  }

  /** One eager AdamW step: sets the hyper-parameters and queues the update. */
  step(o: AdamWOptions): void {
    this.setHyper(o);
    this.queueStep();
  }

  /** Scales the gradients in place so each group's global norm is at most its max (no update). */
  clipGradients(clipNorms: number[]): void {
    const c = this.configValues;
    const nSeg = this.segments.length;
    c[6] = 0;
    for (let g = 0; g < this.nGroups; g++) c[HYPER + nSeg + g] = clipNorms[g] ?? 0;
    this.config.write(c);
    this.sumSquares(false);
    this.engine.run(
      clipGradsKernel,
      [this.layout, this.config, this.partial],
      [this.grads],
      this.params64(),
      linearGrid(this.nChunks, 1),
    );
  }

  /** Global gradient norm of each clip group, before clipping (reads back; not for the hot loop). */
  async gradNorms(): Promise<number[]> {
    const part = await this.partial.toArray();
    const out = new Array<number>(this.nGroups).fill(0);
    this.segments.forEach((s, i) => (out[s.group] += part[i]));
    return out.map(Math.sqrt);
  }

  /** The L1/L2 penalty value of the last queued step (Σ over parameters; reads back). */
  async penaltyValue(): Promise<number> {
    const part = await this.partial.toArray();
    let sum = 0;
    for (let s = 0; s < this.segments.length; s++) sum += part[this.segments.length + s];
    return sum;
  }

  /** Current values of every parameter, by name. */
  async read(): Promise<Map<string, Float64Array>> {
    const all = await this.params.toArray();
    return new Map(
      this.segments.map((s) => [s.spec.name, all.slice(s.offset, s.offset + s.length)]),
    );
  }

  /** The whole optimizer state (parameters, moments, step count) for a checkpoint. */
  async readState(): Promise<{
    params: Float64Array;
    m: Float64Array;
    v: Float64Array;
    stepCount: number;
  }> {
    const [params, m, v] = await Promise.all([this.params, this.m, this.v].map((t) => t.toArray()));
    return { params, m, v, stepCount: this.stepCount };
  }

  /** Restores `readState`'s output (same parameter layout). */
  writeState(
    params: ArrayLike<number>,
    m: ArrayLike<number>,
    v: ArrayLike<number>,
    stepCount: number,
  ): void {
    for (const [name, a] of [
      ['parameters', params],
      ['first moments', m],
      ['second moments', v],
    ] as const)
      if (a.length !== this.size)
        throw new Error(
          `causalmix: checkpoint ${name} hold ${a.length} values, the model has ${this.size}`,
        );
    this.params.write(params);
    this.m.write(m);
    this.v.write(v);
    this.stepCount = stepCount;
  }

  /** Overwrites parameter values (e.g. restoring a checkpoint); moments are kept. */
  write(values: Map<string, ArrayLike<number>>): void {
    for (const [name, data] of values) this.param(name).write(data);
  }

  dispose(): void {
    [...this.views.values(), ...this.gradViews.values()].forEach((t) => t.dispose());
    [this.params, this.grads, this.m, this.v, this.layout, this.config, this.partial].forEach((t) =>
      t.dispose(),
    );
  }
}
