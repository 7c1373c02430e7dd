// Memory of a server process from /proc/<pid>/status: VmRSS (resident now) and VmHWM
// (the peak resident size since the process started, kept by the kernel, so no spike
// between two samples is missed).
import fs from 'node:fs';

export interface Memory {
  rssKb: number;
  peakKb: number;
}

export function readMemory(pid: number): Memory | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const memory = { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
    // A process that has exited but not been reaped yet (a zombie) has no memory lines.
    return Number.isNaN(memory.rssKb) || Number.isNaN(memory.peakKb) ? undefined : memory;
  } catch {
    return undefined;
  }
}

export interface RssSampler {
  /** Stops sampling; returns the samples (seconds since start, VmRSS kB) and the highest VmHWM seen. */
  stop(): { samples: [number, number][]; peakKb: number };
}

/** Samples the process `pid()` names at each tick: it follows a server that was restarted. */
export function sampleRss(pid: () => number, everyMs: number): RssSampler {
  const started = performance.now();
  const samples: [number, number][] = [];
  let peakKb = 0;
  const sample = () => {
    const memory = readMemory(pid());
    if (!memory) return;
    samples.push([Math.round((performance.now() - started) / 100) / 10, memory.rssKb]);
    peakKb = Math.max(peakKb, memory.peakKb);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { samples, peakKb };
    },
  };
}
