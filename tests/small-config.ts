/** The small training configuration the model tests fit with (hidden 8, 40 epochs, 5 warm-start). */
import { getDefaultConfig, updateConfig, type ConfigOverrides } from '../src/model/config.js';

export const smallConfig = (o: ConfigOverrides = {}) =>
  updateConfig(getDefaultConfig(), {
    hiddenDim: 8,
    epochs: 40,
    warmStartEpochs: 5,
    logEvery: 10,
    minTrainWeeks: 40,
    ...o,
  });
