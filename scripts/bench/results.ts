/**
 * @module results
 * The shape of one benchmark run's results, as measured by runner.ts,
 * saved to `.bench/results.json` and rendered by report.ts.
 */
import type { BaselineKind, BaselineRun, FloorRun } from "./baseline.ts";
import type { CorpusName } from "./corpora.ts";
import type { LinkpackRun, Phases } from "./linkpack.ts";
import type { Measured, StackSample } from "./procstats.ts";

/** Peak RSS after, and CPU ms used during, one measured section. */
export interface ProcUsage {
  peaks: StackSample;
  cpuMs: Partial<Record<Measured, number>>;
  wallMs: number;
}

export interface CorpusResult {
  corpus: CorpusName;
  files: number;
  totalBytes: number;
  linkpack: LinkpackRun[];
  baselines: Partial<Record<BaselineKind, BaselineRun[]>>;
  /** the floor measured in the same rounds (download alone + write and fsync the bytes alone) */
  floor: FloorRun[];
  /** `gzip -6 -c FILES > /dev/null` runs */
  gzip: { ms: number; cpuMs: number }[];
  usage: ProcUsage;
}

export interface ThroughputResult {
  /** jobs per round */
  jobs: number;
  files: number;
  /** rounds, linkpack and the pipeline alternating (absent in older results: one) */
  rounds?: number;
  /** first POST → last link, ms: the median over rounds */
  wallMs: number;
  /** the same, each round */
  wallsMs?: number[];
  /** each completed job's POST → link, ms (every round) */
  linkMs: number[];
  /** each completed job's phases (every round) */
  phases: Phases[];
  failures: string[];
  /** the stack's memory and CPU in the middle round by wall time (the lower middle one when even) */
  usage: ProcUsage;
  /** the same jobs by the best hand-made pipeline (curl --parallel + zip -n + fsync), `parallel` at once: wall the median over rounds, `wallsMs` each round's, `jobMs` every round's jobs */
  pipeline?: { parallel: number; wallMs: number; wallsMs?: number[]; jobMs: number[] };
}

export const EVENT_MODES = ["on", "off", "unthrottled"] as const;
export type EventMode = (typeof EVENT_MODES)[number];

export interface EventsResult {
  corpus: CorpusName;
  /** PROGRESS_INTERVAL_MS of each mode */
  intervals: Record<EventMode, number>;
  /** jobs per mode and round */
  repeats: number;
  modes: Record<EventMode, {
    /** time to link of each job, ms */
    linkMs: number[];
    /** progress events of each job */
    events: number[];
    /** CPU ms of the whole stack per job, one value per block of `repeats` jobs */
    cpuMs: number[];
  }>;
}

export interface Meta {
  date: string;
  cpus: number;
  cpuModel: string;
  memGiB: number;
  kernel: string;
  bun: string;
  tools: Record<string, string>;
  rounds: number;
  args: string;
  /** 1-minute load average when the run started and ended */
  loadStart: number;
  loadEnd: number;
}

/** One look at a soak's stack. */
export interface SoakSample {
  /** ms since the soak started */
  t: number;
  jobsDone: number;
  /** downloads, archives, state and logs under RUN_DIR */
  diskBytes: number;
  jobRows: number;
  records: number;
  ledgerRows: number;
  /** messages waiting in the work queues */
  queued: number;
  deadLetters: number;
  /** resident memory of each part's process tree */
  rss: Partial<Record<string, number>>;
}

export interface SoakResult {
  jobs: number;
  done: number;
  failures: number;
  wallMs: number;
  settings: Record<string, string>;
  samples: SoakSample[];
}

export interface BenchResults {
  meta: Meta;
  corpora: CorpusResult[];
  throughput?: ThroughputResult;
  events: EventsResult[];
  soak?: SoakResult;
}
