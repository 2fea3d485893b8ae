import { afterEach } from 'vitest';

/**
 * Lets a test process read its messages between CPU-bound tests. Vitest's runner reports each test to the main
 * process and waits at most 60 s for the answer, which is read only when the event loop turns; it does not turn
 * between synchronous tests. A file of them that ran over a minute on a loaded machine
 * (test/numbering-plans.test.ts took 60.3 s in one CI run) failed the run with `Timeout calling "onTaskUpdate"`
 * though every test passed. Each test must then stay well under a minute on its own.
 */
export function turnEventLoopAfterEachTest(): void {
  afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
}
