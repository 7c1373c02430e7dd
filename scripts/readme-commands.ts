// The shell commands the README gives, as a reader would copy them: every line of its `sh`
// blocks, continuation lines joined. scripts/first-run-check.ts runs the quick start's;
// test/readme.test.ts checks that every other one is run by .ci/run.

/** The commands of the `sh` blocks of `markdown`. */
export function shellCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const [, block = ''] of markdown.matchAll(/```sh\n([\s\S]*?)```/g))
    for (const line of block.replace(/\\\n\s*/g, '').split('\n'))
      if (line.trim() && !line.trim().startsWith('#')) commands.push(line.trim());
  return commands;
}

/** The section of the README under `heading` (a `## ` heading), up to the next one. */
export function section(readme: string, heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) return '';
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The commands of the README's quick start, in order. */
export function quickStartCommands(readme: string): string[] {
  return shellCommands(section(readme, 'Quick start'));
}
