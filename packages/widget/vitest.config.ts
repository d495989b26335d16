import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The server under test must see one graphql instance: the CJS build Pothos and Yoga load.
    alias: [{ find: /^graphql$/, replacement: createRequire(new URL('../server/package.json', import.meta.url)).resolve('graphql') }],
  },
  test: {
    // The server's template database, copied per test file by createTestApp.
    globalSetup: ['../server/test/global-setup.ts', './test/build-widget.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: { TZ: 'UTC' },
  },
});
