import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Database tests each create their own database; two workers match the machine's two cores.
    maxWorkers: 2,
  },
});
