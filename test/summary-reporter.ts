import type { Reporter, SerializedError, TestModule } from 'vitest/node';

/**
 * Prints the plain closing line `N passed, N failed, N skipped` that CI reads. Above it, the files
 * that ended without a result: a worker that dies (a native crash, the OOM killer) is reported by
 * vitest without the file's name, and CI keeps only the end of the output.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const unfinished: string[] = [];
    for (const mod of modules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      const state = mod.state();
      if (state === 'failed' && mod.children.size === 0) failed++;
      if (state !== 'passed' && state !== 'failed' && state !== 'skipped') {
        unfinished.push(`${mod.relativeModuleId} (${state})`);
        failed++; // the file did not finish: whatever it would have checked is unchecked
      }
    }
    const lines = [
      ...unfinished.map((m) => `ended without a result: ${m}`),
      ...errors.map((e) => `unhandled error: ${firstLine(e.message ?? e.name ?? 'unknown')}`),
    ];
    process.stdout.write(`\n${lines.map((l) => `${l}\n`).join('')}${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0]!;
}
