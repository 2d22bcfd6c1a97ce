/**
 * The example page: pick a CSV (or generate demo data), check the columns the CLI's layout
 * detector found (only what it could not tell needs choosing), train in a Web Worker with a live
 * loss chart, then the dashboard charts (vega, rendered here as SVG, shrinking to the window), a
 * warning when the fit forecasts worse than a naive forecast, the budget optimizer and model
 * files. A new file or model clears the previous results. Everything runs in this tab. The
 * training is checkpointed to IndexedDB as it goes, so a reloaded or crashed tab offers to resume
 * it (saved-training.ts).
 * `window.__causalmix` exposes the page's state and two worker queries for the end-to-end test
 * (tests/browser.e2e.test.ts).
 */
import * as vega from 'vega';
import {
  dashboard,
  describeMapping,
  generateSyntheticPanel,
  parseCsvPanel,
  type Panel,
  type TrainProgress,
} from '../../src/browser.js';
import { EtaClock, overallStep } from '../../src/cli/eta.js';
import type { TrainerCheckpoint } from '../../src/model/trainer.js';
import { panelToCsv } from '../../src/cli/panel-csv.js';
import { readTable } from '../../src/data/csv.js';
import { columnFacts, detectLayout } from '../../src/data/layout.js';
import {
  clearForm,
  fillForm,
  formRolesOf,
  pageNames,
  problemText,
  rolesFromForm,
  tickByPrefix,
} from './columns.js';
import { num } from './format.js';
import { drawLoss as drawLossChart } from './loss-chart.js';
import { clearSaved, loadSaved, type SavedRun, type SavedTraining } from './saved-training.js';
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
  /** the page's estimate of the milliseconds left at each report (NaN until it has a pace) */
  etas: number[];
  adapter: string | null;
  isGpu: boolean | null;
  /** charts rendered with at least one mark */
  charts: number;
  error: string | null;
  summary: ResultSummary | null;
  /** results shown so far (trained or loaded models) */
  results: number;
  budget: BudgetTable | null;
  /** the poor-fit warning shown with the results, or null */
  warning: string | null;
  /** the stored training has been looked for (the resume offer is known) */
  storeRead: boolean;
  /** the interrupted training the page offers to resume, or null */
  resumeOffer: {
    epoch: number;
    epochs: number;
    warmDone: boolean;
    source: string;
    savedAt: number;
  } | null;
  /** epoch of the running training's last stored checkpoint, or null */
  savedEpoch: number | null;
}

const state: PageState = {
  status: 'idle',
  history: [],
  etas: [],
  adapter: null,
  isGpu: null,
  charts: 0,
  error: null,
  summary: null,
  results: 0,
  budget: null,
  warning: null,
  storeRead: false,
  resumeOffer: null,
  savedEpoch: null,
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
  if (m.type === 'saved') {
    state.savedEpoch = m.epoch;
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

/** the vega views of the charts on show (finalized when they are replaced) */
let views: vega.View[] = [];
let csvText: string | null = null;
/** the roles the detector found (the form as first filled), as JSON */
let detectedRoles = '';
/** where the CSV came from (a file name, or the demo generator), for the data summary */
let csvSource = '';
let panel: Panel | null = null;

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function usePanel(p: Panel, mappingText: string, source: string): void {
  panel = p;
  const observed = p.observed.reduce((a, b) => a + b, 0);
  const regions = p.regions.length === 1 ? 'one region' : `${p.regions.length} regions`;
  $('data-summary').textContent =
    `${source}: ${regions} × ${p.weeks.length} weeks (${observed} region-weeks), ` +
    `${count(p.channels.length, 'media channel')}, ${count(p.controlNames.length, 'control')}.`;
  $('mapping-summary').textContent = mappingText;
  $<HTMLButtonElement>('train').disabled = false;
}

/** Hides whatever the last model showed: a new file or model must not sit beside old results. */
function clearResults(): void {
  views.forEach((v) => v.finalize());
  views = [];
  state.summary = null;
  state.budget = null;
  state.charts = 0;
  state.warning = null;
  state.history = [];
  state.etas = [];
  $('results-section').hidden = true;
  $('summary').textContent = '';
  $('fit-warning').hidden = true;
  $('fit-warning').textContent = '';
  $('charts').replaceChildren();
  $('budget-section').hidden = true;
  $('budget-table').replaceChildren();
  $('budget-note').textContent = '';
  $('progress-text').textContent = '';
  $<HTMLProgressElement>('progress').value = 0;
  drawLoss();
  $<HTMLButtonElement>('download-model').disabled = true;
}

/** A new CSV: forget the old data and results, detect the columns, prefill the form. */
function loadCsvText(text: string, source: string): void {
  clearError();
  clearResults();
  panel = null;
  csvText = null;
  detectedRoles = '';
  csvSource = source;
  clearForm();
  $('mapping-summary').textContent = '';
  $<HTMLButtonElement>('train').disabled = true;
  let table: ReturnType<typeof readTable>;
  try {
    table = readTable(text);
  } catch (e) {
    $('mapping').hidden = true;
    $('data-summary').textContent = `${source}: not readable.`;
    showError(`The CSV could not be read: ${messageOf(e)}`);
    return;
  }
  csvText = text;
  $('mapping').hidden = false;
  const facts = columnFacts(
    table.header,
    table.data.map((d) => d.cells),
  );
  let layout;
  try {
    layout = detectLayout(table.header, facts);
  } catch (e) {
    showError(`The CSV could not be read as it is: ${messageOf(e)}`);
    return;
  }
  fillForm(table.header, layout);
  detectedRoles = JSON.stringify(formRolesOf(layout));
  if (layout.problems.length > 0) {
    $('data-summary').textContent = `${source}: some columns need to be chosen.`;
    showError(problemText(layout.problems));
    return;
  }
  try {
    const { panel: p, mapping } = parseCsvPanel(text);
    usePanel(p, describeMapping(mapping, pageNames), source);
  } catch (e) {
    $('data-summary').textContent = `${source}: the columns were found, the data has a problem.`;
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
    const roles = rolesFromForm();
    // the detector's own roles unchanged: read as detected (the layout keeps its name)
    const same = JSON.stringify(roles) === detectedRoles;
    const { panel: p, mapping } = parseCsvPanel(csvText, same ? {} : roles);
    usePanel(p, describeMapping(mapping, pageNames), csvSource);
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

/** Trains on the data and settings on the page. */
async function train(): Promise<void> {
  clearError();
  let request: TrainRequest;
  const p = csvText !== null ? applyMapping() : panel;
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
  await runTraining({ panel: p, request, source: csvSource, startedAt: Date.now() });
}

/** Trains `run` in the worker, from its start or from the checkpoint `resume`, and shows the result. */
async function runTraining(run: SavedRun, resume?: TrainerCheckpoint): Promise<void> {
  const { request } = run;
  hideResumeOffer();
  clearResults();
  eta = new EtaClock(request.warmStartEpochs, request.warmStartEpochs + request.epochs);
  plannedWarm = request.warmStartEpochs;
  plannedEpochs = request.epochs;
  state.savedEpoch = resume?.epoch ?? null;
  if (resume) {
    // the chart goes on from the reports before the checkpoint (they have no ETA)
    state.history = [...resume.history];
    state.etas = resume.history.map(() => NaN);
    drawLoss();
  }
  $('progress-text').textContent = resume
    ? `Resuming from ${whereStopped(resume, request)}…`
    : 'Starting the engine…';
  setStatus('training');
  try {
    const reply = await ask({ type: 'train', id: nextId++, run, resume });
    if (reply.type !== 'result') return;
    setStatus('analysing');
    await showResult(reply.summary, reply.dashboard);
    // a cancelled training stays stored: it can be resumed right away, or after a reload
    if (reply.summary.cancelled) await offerResume();
  } catch (e) {
    showError(messageOf(e));
    setStatus('error');
  }
}

let eta = new EtaClock(0, 0);
/** warm-start epochs of the current training (the x axis and the overall count start with them) */
let plannedWarm = 0;
/** training epochs of the current training */
let plannedEpochs = 0;

function onProgress(p: TrainProgress): void {
  state.history.push(p);
  const total = plannedWarm + plannedEpochs;
  const done = overallStep(p, plannedWarm);
  const bar = $<HTMLProgressElement>('progress');
  bar.max = total;
  bar.value = done;
  const left = eta.update(p);
  state.etas.push(left);
  const etaText = Number.isFinite(left) ? `, about ${(left / 1000).toFixed(0)} s left` : '';
  $('progress-text').textContent =
    `${p.phase === 'warm-start' ? 'Warm start' : 'Training'}: epoch ${p.epoch} of ${p.epochs} ` +
    `(overall ${done} of ${total}) · loss ${p.loss.toPrecision(4)} · ` +
    `R² on y/ȳ, training weeks ${p.r2.toFixed(3)} · ${(p.elapsedMs / 1000).toFixed(1)} s${etaText}`;
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

function drawLoss(): void {
  drawLossChart($<HTMLCanvasElement>('loss-chart'), state.history, plannedWarm);
}

$('train').addEventListener('click', () => void train());
$('cancel').addEventListener('click', () => {
  worker.postMessage({ type: 'cancel' } satisfies ToWorker);
  $('progress-text').textContent = 'Cancelling after this epoch…';
  $<HTMLButtonElement>('cancel').disabled = true;
});

// ---- results --------------------------------------------------------------------------------------

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

/** The result's first sentence: what was trained, and whether the model is partial. */
function resultHeadline(s: ResultSummary): string {
  if (s.source === 'loaded') return 'Loaded model';
  const resumed = s.resumedFrom === null ? '' : `, resumed at epoch ${s.resumedFrom},`;
  const time = `${resumed} in ${s.seconds.toFixed(1)} s`;
  if (!s.cancelled) return `Trained ${s.warmStartEpochs} warm-start + ${s.epochs} epochs${time}`;
  const warm = s.warmStartEpochs > 0 ? ` (+ ${s.warmStartEpochs} warm-start)` : '';
  const when =
    s.epochs === 0 && s.warmStartEpochs > 0
      ? 'in the warm start'
      : `after ${s.epochs} of ${s.plannedEpochs} epochs${warm}`;
  return `Partial model: cancelled ${when}${time}; the results below are from the model so far`;
}

async function showResult(summary: ResultSummary, data: dashboard.DashboardData): Promise<void> {
  state.summary = summary;
  const what = resultHeadline(summary);
  const c = summary.check;
  const naive = c.naive[0];
  $('summary').textContent =
    `${what}. R² on y/ȳ over the training weeks (as shown during training): ` +
    `${summary.trainR2Scaled.toFixed(3)}. Pooled R² in KPI units: training ${summary.trainR2.toFixed(3)}, ` +
    `holdout ${summary.holdoutR2.toFixed(3)}.` +
    (Number.isFinite(c.modelRmse) && naive
      ? ` Holdout RMSE ${num(c.modelRmse)}; naive forecast (${naive.label}) ${num(naive.rmse)}.`
      : '');
  state.warning = c.warning;
  $('fit-warning').textContent = c.warning ? `Warning: ${c.warning}` : '';
  $('fit-warning').hidden = c.warning === null;
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
  clearResults();
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
    $('progress-text').textContent = `${file.name} could not be loaded.`;
    showError(messageOf(err));
    setStatus('error');
  } finally {
    input.value = '';
  }
});

// ---- resuming an interrupted training -------------------------------------------------------------

let saved: SavedTraining | null = null;

/** Where a checkpoint stands, e.g. 'epoch 120 of 600' (or in the warm start, which comes first). */
function whereStopped(c: TrainerCheckpoint, r: TrainRequest): string {
  return c.warmDone
    ? `epoch ${c.epoch} of ${r.epochs}`
    : `warm-start epoch ${c.warmEpoch ?? 0} of ${r.warmStartEpochs}`;
}

/** Shows the resume offer when a training is stored (interrupted by a reload, a crash or Cancel). */
async function offerResume(): Promise<void> {
  try {
    saved = await loadSaved();
  } catch {
    saved = null; // no IndexedDB here: nothing to resume
  }
  state.storeRead = true;
  // a training started while the store was read has replaced what it held
  if (!saved || state.status === 'training' || state.status === 'analysing') return;
  const { run, checkpoint, savedAt } = saved;
  state.resumeOffer = {
    epoch: checkpoint.epoch,
    epochs: run.request.epochs,
    warmDone: checkpoint.warmDone,
    source: run.source,
    savedAt,
  };
  $('resume-text').textContent =
    `An interrupted training (${whereStopped(checkpoint, run.request)}, data ` +
    `'${run.source}', saved ${new Date(savedAt).toLocaleString()}) can be resumed.`;
  $('resume-banner').hidden = false;
}

function hideResumeOffer(): void {
  saved = null;
  state.resumeOffer = null;
  $('resume-banner').hidden = true;
}

/** The page as it was for the stored training: its data and settings, then train on. */
function resume(): void {
  if (!saved) return;
  const { run, checkpoint } = saved;
  clearError();
  csvText = null;
  csvSource = run.source;
  $('mapping').hidden = true;
  usePanel(run.panel, '', run.source);
  const r = run.request;
  $<HTMLInputElement>('epochs').value = String(r.epochs);
  $<HTMLInputElement>('warm').value = String(r.warmStartEpochs);
  $<HTMLInputElement>('hidden').value = String(r.hiddenDim);
  $<HTMLSelectElement>('engine').value = r.engine;
  void runTraining(run, checkpoint);
}

$('resume').addEventListener('click', resume);
// the offer goes once the stored training is gone (a reload right after finds nothing)
$('discard').addEventListener('click', async () => {
  try {
    await clearSaved();
    hideResumeOffer();
  } catch (e) {
    showError(`The stored training could not be discarded: ${messageOf(e)}`);
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
void offerResume();
