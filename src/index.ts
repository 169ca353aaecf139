/** The public API of the analytics core (`src/`): pure functions over plain, JSON-safe data. */
export * from './types.js';
export * from './random.js';
export * from './prepare.js';
export * from './strategy.js';
