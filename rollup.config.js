// Bundles the compiled widget (run `tsc -b` first: inputs are in dist/). One independent bundle per entry so
// the badge bundle stays small and the worker file sits next to every bundle that may create it
// (`new URL('./fit-worker.js', import.meta.url)`).
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const entries = {
  'smart-segments': 'dist/widget/index.js',
  badge: 'dist/widget/badge/badge.js',
  'fit-worker': 'dist/widget/explorer/fit-worker.js',
  demo: 'dist/widget/demo/demo.js',
};

export default Object.entries(entries).map(([name, input]) => ({
  input,
  output: {
    file: `dist/bundle/${name}.js`,
    format: 'es',
    sourcemap: true,
  },
  plugins: [nodeResolve({ browser: true }), terser({ ecma: 2020, module: true, format: { comments: false } })],
  onwarn(warning, warn) {
    // Lit's decorators compile to `this` at module scope in some helpers: harmless.
    if (warning.code === 'THIS_IS_UNDEFINED') return;
    warn(warning);
  },
}));
