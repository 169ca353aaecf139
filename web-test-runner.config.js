// Widget tests: compiled by `tsc -b` to dist/test/widget, run in Debian's Chromium.
import { chromeLauncher } from '@web/test-runner-chrome';

export default {
  files: ['dist/test/widget/**/*.test.js'],
  nodeResolve: true,
  concurrency: 1,
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
        ],
      },
    }),
  ],
  testFramework: {
    config: { timeout: 20000 },
  },
  testsFinishTimeout: 300000,
};
