// The built-in layer classes in the layer registry.
import { registerLayer } from '../graph/registry';
import { Dropout } from './dropout';
import type { DropoutOptions } from './dropout';
import { Embedding } from './embedding';
import type { EmbeddingOptions } from './embedding';
import { Linear } from './linear';
import type { LinearOptions } from './linear';
import { TimePooling } from './pooling';
import type { PoolingOptions } from './pooling';
import { GRU, LSTM, SimpleRNN } from './recurrent';
import type { RecurrentOptions } from './recurrent';
import { TimeDelay } from './time-delay';
import type { TimeDelayOptions } from './time-delay';

const cellOnly = (c: Record<string, unknown>, drop: string[]) =>
  Object.fromEntries(Object.entries(c).filter(([k]) => !drop.includes(k)));

registerLayer('Linear', (c) => new Linear(c as unknown as LinearOptions));
registerLayer('Embedding', (c) => new Embedding(c as unknown as EmbeddingOptions));
registerLayer('Dropout', (c) => new Dropout(c as DropoutOptions));
registerLayer('TimePooling', (c) => new TimePooling(c as PoolingOptions));
registerLayer('TimeDelay', (c) => new TimeDelay(c as unknown as TimeDelayOptions));
// a recurrent layer's config holds every cell's options resolved; each cell takes its own
registerLayer(
  'SimpleRNN',
  (c) => new SimpleRNN(cellOnly(c, ['gruVariant', 'forgetBias']) as unknown as RecurrentOptions),
);
registerLayer('LSTM', (c) => new LSTM(cellOnly(c, ['gruVariant', 'activation']) as unknown as RecurrentOptions));
registerLayer('GRU', (c) => new GRU(cellOnly(c, ['activation', 'forgetBias']) as unknown as RecurrentOptions));
