// What one benchmark run measured, kept as plain data (written as JSON to bench/out and
// rendered by ./report.ts).
import type { CountCostsResult } from './count-costs.js';
import type { FanoutResult } from './fanout.js';
import type { DeliveryResult } from './delivery.js';
import type { LoadResult } from './load.js';
import type { NoisyResult } from './noisy-neighbour.js';
import type { OperationName, TargetName } from './operations.js';
import type { WebhookResult } from './webhook-ingestion.js';

export interface OperationResult {
  target: TargetName;
  operation: OperationName;
  /** Why the operation was not measured: the check of its response, or the server. */
  error?: string;
  /** Q + Execute messages per request, over a batch of sequential requests. */
  statementsPerRequest?: number;
  /** seq_tup_read + idx_tup_read per request, over the same batch. */
  rowsReadPerRequest?: number;
  /** Requests in that batch (smaller for slow operations). */
  countedOver?: number;
  /** Response bytes of one request. */
  responseBytes?: number;
  runs: LoadResult[];
  /** Concurrencies not run because at `after` connections requests took over half a run. */
  skipped?: { connections: number[]; after: number };
  /** Highest VmRSS sampled (every 250 ms) during this operation's load runs. */
  peakRssMb?: number;
  /** Canonical form of the response, compared across targets. */
  summary?: unknown;
  /** How the summary compares with the reference target's ("agrees" or the first difference). */
  agreement?: string;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  os: string;
  node: string;
  peerNode: string;
  postgres: string;
  commit: string;
  /** 1-minute load average when the run started and ended: other work on the machine shows here. */
  loadAverage: [number, number];
}

export interface RunResults {
  startedAt: string;
  command: string;
  machine: MachineInfo;
  scale: number;
  seedSeconds: number;
  rows: Record<string, number>;
  durationSeconds: number;
  concurrency: number[];
  batch: number;
  /** VmHWM of each server process over its whole load phase. */
  serverPeakMb: Partial<Record<TargetName, number>>;
  results: OperationResult[];
  /** The scenarios run after the table, when they were. */
  noisyNeighbour?: NoisyResult | { error: string };
  countCosts?: CountCostsResult | { error: string };
  fanout?: FanoutResult | { error: string };
  webhookIngestion?: WebhookResult | { error: string };
  delivery?: DeliveryResult | { error: string };
  totalSeconds: number;
}
