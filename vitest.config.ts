import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The tests on the public data sets need them beside the clone: `npm run test:data` (vitest.data.config.ts).
    exclude: ['test/data/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Database tests each create their own database; two workers match the machine's two cores.
    maxWorkers: 2,
  },
});
