// Every command the README gives is run somewhere: the quick start's by
// scripts/first-run-check.ts (in .ci/run), in order and as written; every other one verbatim
// by .ci/run. A command added to the README without either fails here.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { quickStartCommands, shellCommands } from '../scripts/readme-commands.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const ci = fs.readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
const ciLines = new Set(ci.split('\n').map((line) => line.trim()));

describe('README commands', () => {
  it("the quick start is a fresh clone's first run: install, start, then calls to the running server", () => {
    const commands = quickStartCommands(readme);
    expect(commands[0]).toBe('npm ci');
    expect(commands[1]).toBe('npm start');
    expect(commands.some((command) => command.startsWith('curl '))).toBe(true);
  });

  it('.ci/run runs the quick start (scripts/first-run-check.ts)', () => {
    expect(ciLines).toContain('npx tsx scripts/first-run-check.ts');
  });

  it('every other command of the README is a line of .ci/run', () => {
    const quickStart = new Set(quickStartCommands(readme));
    const others = shellCommands(readme).filter((command) => !quickStart.has(command));
    expect(others.length).toBeGreaterThan(0);
    for (const command of others) expect(ciLines, command).toContain(command);
  });

  it('reads continuation lines as one command', () => {
    expect(shellCommands('```sh\ncurl -s http://x \\\n  -H "a: b" \\\n  -d \'{}\'\nnpm test\n```\n')).toEqual([
      'curl -s http://x -H "a: b" -d \'{}\'',
      'npm test',
    ]);
  });
});
