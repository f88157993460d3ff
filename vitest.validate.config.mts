import { defineConfig } from 'vitest/config';

// npm run validate: the long learning checks (minutes), kept out of npm test.
export default defineConfig({
  test: {
    include: ['validate/**/*.validate.ts'],
    pool: 'forks',
    testTimeout: 3_600_000,
    fileParallelism: false,
  },
});
