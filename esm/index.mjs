// The ES module entry (`import { LSTM } from 'rnnkit'`): re-exports the CommonJS build's named
// exports, so both entries share one module instance (one addon, one layer registry).
export * from '../dist/index.js';
