/** The public API of the analytics core (`src/`): pure functions over plain, JSON-safe data. */
export * from './types.js';
export * from './random.js';
export * from './prepare.js';
export * from './strategy.js';
export * from './scaler.js';
export * from './cluster/kmeans.js';
export * from './cluster/nearest.js';
export * from './cluster/ward.js';
export * from './cluster/silhouette.js';
export * from './cluster/agreement.js';
export * from './naming.js';
export * from './kpis.js';
export * from './explain.js';
export * from './fit.js';
export * from './assign.js';
