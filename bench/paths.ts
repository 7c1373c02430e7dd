// Where things are, independent of the directory the benchmark is started from.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = path.dirname(BENCH_DIR);
/** Profiles, logs, raw results: gitignored. */
export const OUT_DIR = path.join(BENCH_DIR, 'out');
export const PEER_DIR = path.join(BENCH_DIR, 'peer');
