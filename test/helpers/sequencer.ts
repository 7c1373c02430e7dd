// The order test files start in (vitest.config.ts `sequence.sequencer`). Vitest starts the
// files that took longest last time first, and without that record (a fresh checkout, CI after
// `npm ci`) the largest files first. test/server.test.ts is the longest (process start-ups,
// a build) without being the largest: started late, it would run alone at the end while the
// other worker idles. It always starts first.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const FIRST = /[\\/]test[\\/]server\.test\.ts$/;

export class ProcessTestsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return [
      ...sorted.filter((file) => FIRST.test(file.moduleId)),
      ...sorted.filter((file) => !FIRST.test(file.moduleId)),
    ];
  }
}
