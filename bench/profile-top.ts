// `npx tsx bench/profile-top.ts <file.cpuprofile> [count]`: the functions with the most
// self time in a V8 CPU profile (what `node --cpu-prof` writes), then the same time
// grouped by package or source file. No external tools: the format is JSON with a call
// tree (`nodes`), the node sampled at each tick (`samples`) and the microseconds before
// each tick (`timeDeltas`).
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ROOT_DIR } from './paths.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  group: string;
  ms: number;
}

/** node_modules/<package> (scoped or not), or the file under the project, or V8's own entries. */
function groupOf(url: string): string {
  if (!url) return '(native / V8)';
  const path = url.replace(/^file:\/\//, '');
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (module) return module[1]!;
  if (path.startsWith('node:')) return 'node core';
  if (path.startsWith('wasm://')) return 'WebAssembly (e.g. Prisma query compiler)';
  return path.startsWith(`${ROOT_DIR}/`) ? path.slice(ROOT_DIR.length + 1) : path;
}

export function selfTimes(profile: CpuProfile): { functions: SelfTime[]; totalMs: number } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, SelfTime>();
  let totalMs = 0;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    totalMs += ms;
    const name = frame.functionName || '(anonymous)';
    const where = frame.url ? `${frame.url.replace(/^file:\/\//, '')}:${frame.lineNumber + 1}` : '';
    const key = `${name}\u0000${where}`;
    const entry = totals.get(key) ?? { name, where, group: groupOf(frame.url), ms: 0 };
    entry.ms += ms;
    totals.set(key, entry);
  });
  return { functions: [...totals.values()].sort((a, b) => b.ms - a.ms), totalMs };
}

export function formatTop(profile: CpuProfile, count = 25): string {
  const { functions, totalMs } = selfTimes(profile);
  const percent = (ms: number) => `${((ms / totalMs) * 100).toFixed(1).padStart(5)}%`;
  const lines = [`Total sampled: ${(totalMs / 1000).toFixed(1)} s`, '', 'Top functions by self time:'];
  for (const entry of functions.slice(0, count)) {
    lines.push(`${percent(entry.ms)} ${entry.ms.toFixed(0).padStart(8)} ms  ${entry.name}  ${entry.where}`);
  }
  const groups = new Map<string, number>();
  for (const entry of functions) groups.set(entry.group, (groups.get(entry.group) ?? 0) + entry.ms);
  lines.push('', 'Self time by package / file:');
  for (const [group, ms] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    lines.push(`${percent(ms)} ${ms.toFixed(0).padStart(8)} ms  ${group}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: npx tsx bench/profile-top.ts <file.cpuprofile> [count]\n');
    process.exit(1);
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${formatTop(profile, count ? Number(count) : 25)}\n`);
}
