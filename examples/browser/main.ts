/**
 * The example page: pick a CSV (or generate demo data), map its columns, train in a Web Worker
 * with a live loss chart, then the dashboard charts (vega, rendered here as SVG), the budget
 * optimizer and model files. Everything runs in this tab. `window.__causalmix` exposes the page's
 * state and two worker queries for the end-to-end test (tests/browser.e2e.test.ts).
 */
import Papa from 'papaparse';
import * as vega from 'vega';
import {
  dashboard,
  describeMapping,
  generateSyntheticPanel,
  parseCsvPanel,
  type ColumnRoles,
  type Panel,
  type TrainProgress,
} from '../../src/browser.js';
import { panelToCsv } from '../../src/cli/panel-csv.js';
import type {
  BudgetTable,
  EngineChoice,
  FromWorker,
  ResultSummary,
  ToWorker,
  TrainRequest,
} from './worker.js';

/** The demo panel: small enough to train in seconds on a software adapter. */
const DEMO = { regions: 8, weeks: 80, channels: 4, seed: 7 };
/** Progress reports (each one reads the loss back from the GPU) per training. */
const REPORTS = 100;

type Status = 'idle' | 'training' | 'analysing' | 'done' | 'cancelled' | 'error';

export interface PageState {
  status: Status;
  /** every progress report of the current training */
  history: TrainProgress[];
  adapter: string | null;
  isGpu: boolean | null;
  /** charts rendered with at least one mark */
  charts: number;
  error: string | null;
  summary: ResultSummary | null;
  /** results shown so far (trained or loaded models) */
  results: number;
  budget: BudgetTable | null;
}

const state: PageState = {
  status: 'idle',
  history: [],
  adapter: null,
  isGpu: null,
  charts: 0,
  error: null,
  summary: null,
  results: 0,
  budget: null,
};

const $ = <T extends HTMLElement = HTMLElement>(id: string) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
};

// ---- errors in plain words ------------------------------------------------------------------------

function showError(message: string): void {
  state.error = message;
  const el = $('error');
  el.textContent = message;
  el.hidden = false;
}

function clearError(): void {
  state.error = null;
  $('error').hidden = true;
}

const messageOf = (e: unknown) =>
  (e instanceof Error ? e.message : String(e)).replace(/^causalmix: /, '');

// ---- the worker -----------------------------------------------------------------------------------

// a runtime URL (not a bundler-resolved one): main.js and worker.js sit side by side
const WORKER_FILE = 'worker.js';
const worker = new Worker(new URL(WORKER_FILE, import.meta.url), { type: 'module' });
let nextId = 1;
const pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();

/** Sends a request and resolves with the worker's reply to it (its 'error' reply rejects). */
function ask(message: ToWorker): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    if ('id' in message) pending.set(message.id, { resolve, reject });
    worker.postMessage(message);
  });
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  if (m.type === 'adapter') {
    state.adapter = m.details ? `${m.name}; ${m.details}` : m.name;
    state.isGpu = m.isGpu;
    $('adapter').textContent = state.adapter;
    return;
  }
  if (m.type === 'progress') {
    onProgress(m.progress);
    return;
  }
  const waiter = pending.get(m.id);
  if (!waiter) return;
  pending.delete(m.id);
  if (m.type === 'error') waiter.reject(new Error(m.message));
  else waiter.resolve(m);
};

worker.onerror = (e) => {
  showError(`The training worker failed: ${e.message || 'it could not be started'}`);
  setStatus('error');
};

// ---- data -----------------------------------------------------------------------------------------

let csvText: string | null = null;
/** where the CSV came from (a file name, or the demo generator), for the data summary */
let csvSource = '';
let header: string[] = [];
let panel: Panel | null = null;

function fillSelect(id: string, value: string): void {
  const sel = $<HTMLSelectElement>(id);
  sel.replaceChildren(...header.map((h) => new Option(h, h, false, h === value)));
}

function fillChecks(id: string, ticked: string[]): void {
  const box = $(id);
  box.replaceChildren(
    ...header.map((h) => {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = h;
      input.checked = ticked.includes(h);
      label.append(input, h);
      return label;
    }),
  );
}

const ticked = (id: string) =>
  Array.from($(id).querySelectorAll<HTMLInputElement>('input:checked'), (i) => i.value);

/** Ticks the columns whose names start with the prefix (a new prefix replaces the choice). */
function tickByPrefix(listId: string, prefix: string): void {
  const p = prefix.trim().toLowerCase();
  $(listId)
    .querySelectorAll<HTMLInputElement>('input')
    .forEach((input) => (input.checked = p !== '' && input.value.toLowerCase().startsWith(p)));
}

function rolesFromForm(): ColumnRoles {
  const media = ticked('map-media');
  if (media.length === 0)
    throw new Error('Pick at least one media column (tick it, or type its prefix).');
  return {
    region: $<HTMLSelectElement>('map-region').value,
    week: $<HTMLSelectElement>('map-week').value,
    target: $<HTMLSelectElement>('map-target').value,
    media,
    controls: ticked('map-controls'),
  };
}

function usePanel(p: Panel, mappingText: string, source: string): void {
  panel = p;
  const observed = p.observed.reduce((a, b) => a + b, 0);
  $('data-summary').textContent =
    `${source}: ${p.regions.length} regions × ${p.weeks.length} weeks (${observed} region-weeks), ` +
    `${p.channels.length} media channels, ${p.controlNames.length} controls.`;
  $('mapping-summary').textContent = mappingText;
  $<HTMLButtonElement>('train').disabled = false;
}

/** A new CSV: read its header, detect the columns, prefill the mapping form. */
function loadCsvText(text: string, source: string): void {
  clearError();
  panel = null;
  $<HTMLButtonElement>('train').disabled = true;
  csvText = text;
  csvSource = source;
  const head = Papa.parse<string[]>(text, { preview: 1 });
  header = (head.data[0] ?? []).map((h) => h.trim()).filter((h) => h !== '');
  if (header.length === 0) {
    $('mapping').hidden = true;
    $('data-summary').textContent = `${source}: no header row.`;
    showError('The CSV is empty or has no header row, so it cannot be read.');
    return;
  }
  $('mapping').hidden = false;
  try {
    const { panel: p, mapping } = parseCsvPanel(text);
    fillSelect('map-region', mapping.region ?? '');
    fillSelect('map-week', mapping.week);
    fillSelect('map-target', mapping.target);
    $<HTMLInputElement>('map-media-prefix').value = mapping.mediaPrefix ?? '';
    $<HTMLInputElement>('map-control-prefix').value = mapping.controlPrefix ?? 'control_';
    fillChecks('map-media', mapping.media);
    fillChecks('map-controls', mapping.controls);
    usePanel(p, describeMapping(mapping), source);
  } catch (e) {
    // detection failed: the form still lets the user name the columns
    for (const id of ['map-region', 'map-week', 'map-target']) fillSelect(id, header[0]);
    fillChecks('map-media', []);
    fillChecks('map-controls', []);
    $('data-summary').textContent = `${source}: columns need to be chosen.`;
    $('mapping-summary').textContent = '';
    showError(`The CSV could not be read as it is: ${messageOf(e)}`);
  }
}

function applyMapping(): Panel | null {
  if (csvText === null) {
    showError('Load a CSV or generate demo data first.');
    return null;
  }
  clearError();
  try {
    const { panel: p, mapping } = parseCsvPanel(csvText, rolesFromForm());
    usePanel(p, describeMapping(mapping), csvSource);
    return p;
  } catch (e) {
    showError(`The CSV could not be read with these columns: ${messageOf(e)}`);
    return null;
  }
}

$<HTMLInputElement>('csv-file').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (!file) return;
  try {
    loadCsvText(await file.text(), file.name);
  } catch (err) {
    showError(`The file ${file.name} could not be read: ${messageOf(err)}`);
  }
});

$('demo-data').addEventListener('click', () => {
  const { panel: p } = generateSyntheticPanel(DEMO);
  loadCsvText(
    panelToCsv(p),
    `Demo data (synthetic: ${DEMO.regions} regions × ${DEMO.weeks} weeks × ${DEMO.channels} channels)`,
  );
});

$('apply-mapping').addEventListener('click', () => void applyMapping());
$('map-media-prefix').addEventListener('input', (e) =>
  tickByPrefix('map-media', (e.target as HTMLInputElement).value),
);
$('map-control-prefix').addEventListener('input', (e) =>
  tickByPrefix('map-controls', (e.target as HTMLInputElement).value),
);

// ---- training -------------------------------------------------------------------------------------

function setStatus(s: Status): void {
  state.status = s;
  const busy = s === 'training' || s === 'analysing';
  $<HTMLButtonElement>('train').disabled = busy || panel === null;
  $<HTMLButtonElement>('cancel').disabled = s !== 'training';
  $<HTMLButtonElement>('demo-data').disabled = busy;
  $<HTMLInputElement>('csv-file').disabled = busy;
  $<HTMLInputElement>('model-file').disabled = busy;
  $<HTMLButtonElement>('download-model').disabled = busy || state.summary === null;
  document.body.dataset.status = s;
}

function intInput(id: string, label: string, min: number, max: number): number {
  const v = Number($<HTMLInputElement>(id).value);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new Error(`${label} must be a whole number from ${min} to ${max}.`);
  return v;
}

const engineChoice = () => $<HTMLSelectElement>('engine').value as EngineChoice;

async function train(): Promise<void> {
  clearError();
  let request: TrainRequest;
  const p = csvText !== null && header.length > 0 ? applyMapping() : panel;
  if (!p) return;
  try {
    const hiddenDim = intInput('hidden', 'Hidden size', 2, 512);
    if (hiddenDim % 2 !== 0) throw new Error('Hidden size must be even.');
    const epochs = intInput('epochs', 'Epochs', 1, 100000);
    const warmStartEpochs = intInput('warm', 'Warm-start epochs', 0, 10000);
    request = {
      epochs,
      warmStartEpochs,
      hiddenDim,
      engine: engineChoice(),
      logEvery: Math.max(1, Math.ceil((epochs + warmStartEpochs) / REPORTS)),
      title: 'causalmix in the browser',
    };
  } catch (e) {
    showError(messageOf(e));
    return;
  }
  state.history = [];
  drawLoss();
  $('progress-text').textContent = 'Starting the engine…';
  setStatus('training');
  try {
    const reply = await ask({ type: 'train', id: nextId++, panel: p, request });
    if (reply.type !== 'result') return;
    setStatus('analysing');
    await showResult(reply.summary, reply.dashboard);
  } catch (e) {
    showError(messageOf(e));
    setStatus('error');
  }
}

function onProgress(p: TrainProgress): void {
  state.history.push(p);
  const warm = state.history.find((h) => h.phase === 'warm-start')?.epochs ?? 0;
  const done = (p.phase === 'warm-start' ? 0 : warm) + p.epoch;
  const total =
    warm + (p.phase === 'train' ? p.epochs : Number($<HTMLInputElement>('epochs').value));
  const bar = $<HTMLProgressElement>('progress');
  bar.max = total;
  bar.value = done;
  const eta = Number.isFinite(p.etaMs) ? `, about ${(p.etaMs / 1000).toFixed(0)} s left` : '';
  $('progress-text').textContent =
    `${p.phase === 'warm-start' ? 'Warm start' : 'Training'}: epoch ${p.epoch} of ${p.epochs} · ` +
    `loss ${p.loss.toPrecision(4)} · R² ${p.r2.toFixed(3)} · ` +
    `${(p.elapsedMs / 1000).toFixed(1)} s${eta}`;
  scheduleLossDraw();
}

let drawQueued = false;
function scheduleLossDraw(): void {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    drawLoss();
  });
}

/** The live loss chart: total loss per report on a log scale, warm start in grey. */
function drawLoss(): void {
  const canvas = $<HTMLCanvasElement>('loss-chart');
  const g = canvas.getContext('2d');
  if (!g) return;
  const { width: W, height: H } = canvas;
  const pad = { l: 56, r: 12, t: 14, b: 26 };
  g.clearRect(0, 0, W, H);
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#5f6b7a';
  const h = state.history.filter((p) => p.loss > 0 && Number.isFinite(p.loss));
  if (h.length === 0) {
    g.fillText('The training loss appears here.', pad.l, H / 2);
    return;
  }
  const warm = h.find((p) => p.phase === 'warm-start')?.epochs ?? 0;
  const step = (p: TrainProgress) => (p.phase === 'warm-start' ? 0 : warm) + p.epoch;
  const xMax = Math.max(step(h[h.length - 1]), 1);
  const logs = h.map((p) => Math.log10(p.loss));
  let lo = Math.min(...logs);
  let hi = Math.max(...logs);
  if (hi - lo < 1e-6) [lo, hi] = [lo - 0.5, hi + 0.5];
  const x = (s: number) => pad.l + ((W - pad.l - pad.r) * s) / xMax;
  const y = (l: number) => pad.t + ((H - pad.t - pad.b) * (hi - l)) / (hi - lo);
  g.strokeStyle = '#d5dbe3';
  g.beginPath();
  g.moveTo(pad.l, pad.t);
  g.lineTo(pad.l, H - pad.b);
  g.lineTo(W - pad.r, H - pad.b);
  g.stroke();
  g.fillText((10 ** hi).toPrecision(3), 4, pad.t + 4);
  g.fillText((10 ** lo).toPrecision(3), 4, H - pad.b);
  g.fillText(`epoch ${xMax}`, W - pad.r - 60, H - 8);
  g.fillText('loss (log scale)', pad.l + 6, pad.t + 4);
  g.lineWidth = 2;
  for (const phase of ['warm-start', 'train'] as const) {
    const pts = h.filter((p) => p.phase === phase);
    if (pts.length === 0) continue;
    g.strokeStyle = phase === 'warm-start' ? '#9aa5b1' : '#4e79a7';
    g.beginPath();
    pts.forEach((p, i) => {
      const px = x(step(p));
      const py = y(Math.log10(p.loss));
      if (i === 0) g.moveTo(px, py);
      else g.lineTo(px, py);
    });
    g.stroke();
  }
}

$('train').addEventListener('click', () => void train());
$('cancel').addEventListener('click', () => {
  worker.postMessage({ type: 'cancel' } satisfies ToWorker);
  $('progress-text').textContent = 'Cancelling after this epoch…';
  $<HTMLButtonElement>('cancel').disabled = true;
});

// ---- results --------------------------------------------------------------------------------------

let views: vega.View[] = [];

async function renderCharts(data: dashboard.DashboardData): Promise<number> {
  views.forEach((v) => v.finalize());
  views = [];
  const box = $('charts');
  box.replaceChildren();
  let drawn = 0;
  for (const c of dashboard.buildChartSpecs(data)) {
    const fig = document.createElement('figure');
    fig.className = 'chart';
    fig.dataset.chart = c.id;
    const el = document.createElement('div');
    fig.append(el);
    box.append(fig);
    try {
      const view = new vega.View(vega.parse(dashboard.compileChart(c.spec)), {
        renderer: 'svg',
        container: el,
        hover: true,
      });
      await view.runAsync();
      views.push(view);
      if (el.querySelector('svg .role-mark')) drawn++;
    } catch (e) {
      el.textContent = `The chart '${c.title}' could not be drawn: ${messageOf(e)}`;
    }
  }
  return drawn;
}

const fmt = new Intl.NumberFormat('en', { maximumSignificantDigits: 4 });
const num = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? '–' : fmt.format(v);

async function showResult(summary: ResultSummary, data: dashboard.DashboardData): Promise<void> {
  state.summary = summary;
  const what =
    summary.source === 'loaded'
      ? 'Loaded model'
      : `${summary.cancelled ? 'Cancelled after' : 'Trained'} ${summary.warmStartEpochs} warm-start + ${summary.epochs} epochs in ${summary.seconds.toFixed(1)} s`;
  $('summary').textContent =
    `${what}. R² train ${summary.trainR2.toFixed(3)}, holdout ${summary.holdoutR2.toFixed(3)}.`;
  if (summary.source === 'trained') $('progress-text').textContent = `${what}.`;
  $('results-section').hidden = false;
  state.charts = await renderCharts(data);
  $('budget-section').hidden = summary.curveChannels.length === 0;
  $('budget-table').replaceChildren();
  state.budget = null;
  $('budget-note').textContent =
    summary.curveChannels.length > 0
      ? `Budget in ${summary.curveUnit} over the planning horizon; channels: ${summary.curveChannels.join(', ')}.`
      : '';
  if (summary.budgetDefault) {
    $<HTMLInputElement>('budget').value = String(Math.round(summary.budgetDefault.budget));
    $<HTMLInputElement>('budget-weeks').value = String(summary.budgetDefault.weeks);
  }
  state.results++;
  setStatus(summary.cancelled ? 'cancelled' : 'done');
}

// ---- budget optimizer -----------------------------------------------------------------------------

function showBudget(t: BudgetTable): void {
  const head = [
    'Channel',
    `Current (${t.unit})`,
    `Optimal (${t.unit})`,
    'Change',
    'Current response',
    'Optimal response',
  ];
  const tr = (cells: string[], tag: 'th' | 'td') => {
    const row = document.createElement('tr');
    for (const c of cells) {
      const cell = document.createElement(tag);
      cell.textContent = c;
      row.append(cell);
    }
    return row;
  };
  const rows = t.rows.map((r) =>
    tr(
      [
        r.channel,
        num(r.current),
        num(r.optimal),
        Number.isFinite(r.current) && r.current > 0
          ? `${(((r.optimal - r.current) / r.current) * 100).toFixed(1)}%`
          : '–',
        num(r.currentResponse),
        num(r.optimalResponse),
      ],
      'td',
    ),
  );
  $('budget-table').replaceChildren(tr(head, 'th'), ...rows);
  state.budget = t;
  const lift =
    t.liftPct === null
      ? ''
      : ` (${t.liftPct >= 0 ? '+' : ''}${t.liftPct.toFixed(1)}% over the current mix at the same budget)`;
  $('budget-note').textContent =
    `Predicted response over ${t.weeks} weeks: ${num(t.predictedResponse)}${lift}.` +
    (t.warnings.length > 0 ? ` Note: ${t.warnings.join(' ')}` : '');
}

$('budget-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  clearError();
  const budget = Number($<HTMLInputElement>('budget').value);
  if (!(budget > 0)) {
    showError('The budget must be a number greater than 0.');
    return;
  }
  try {
    const weeks = intInput('budget-weeks', 'Weeks', 1, 520);
    const reply = await ask({ type: 'optimize', id: nextId++, budget, weeks });
    if (reply.type === 'optimized') showBudget(reply.table);
  } catch (err) {
    showError(`The budget could not be optimised: ${messageOf(err)}`);
  }
});

// ---- model files ----------------------------------------------------------------------------------

async function modelFileText(): Promise<string> {
  const reply = await ask({ type: 'model-file', id: nextId++ });
  if (reply.type !== 'model-file') throw new Error('unexpected reply from the worker');
  return reply.text;
}

$('download-model').addEventListener('click', async () => {
  clearError();
  try {
    const blob = new Blob([await modelFileText()], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'causalmix-model.json';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  } catch (e) {
    showError(`The model could not be saved: ${messageOf(e)}`);
  }
});

$<HTMLInputElement>('model-file').addEventListener('change', async (e) => {
  const input = e.target as HTMLInputElement;
  const file = input.files?.[0];
  if (!file) return;
  clearError();
  setStatus('analysing');
  $('progress-text').textContent = `Loading ${file.name}…`;
  try {
    const reply = await ask({
      type: 'load-model',
      id: nextId++,
      text: await file.text(),
      engine: engineChoice(),
    });
    if (reply.type === 'result') {
      $('progress-text').textContent = `Loaded ${file.name}.`;
      await showResult(reply.summary, reply.dashboard);
    }
  } catch (err) {
    showError(messageOf(err));
    setStatus('error');
  } finally {
    input.value = '';
  }
});

// ---- test hook ------------------------------------------------------------------------------------

async function predictions(): Promise<number[]> {
  const reply = await ask({ type: 'predictions', id: nextId++ });
  if (reply.type !== 'predictions') throw new Error('unexpected reply from the worker');
  return Array.from(reply.values);
}

declare global {
  interface Window {
    __causalmix: {
      state: PageState;
      predictions: () => Promise<number[]>;
      modelFileText: () => Promise<string>;
    };
  }
}
window.__causalmix = { state, predictions, modelFileText };

window.addEventListener('unhandledrejection', (e) => showError(messageOf(e.reason)));
drawLoss();
setStatus('idle');
