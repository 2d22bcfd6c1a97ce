#!/usr/bin/env node
/**
 * The causalmix command line: `fit`, `optimize` and `demo` (see --help of each). Every error
 * ends here as one line on stderr starting with "causalmix: " and exit code 1.
 */
import { Command } from 'commander';
import { registerDemo } from './cli/demo.js';
import { errorLine } from './cli/common.js';
import { registerFit } from './cli/fit.js';
import { registerOptimize } from './cli/optimize.js';
import { needsStderrFilter, runWithFilteredStderr } from './cli/stderr-filter.js';
import { packageVersion } from './cli/version.js';

export function buildProgram(): Command {
  const program = new Command('causalmix')
    .description('Deep causal marketing-mix modelling (DeepCausalMMM) on WebGPU')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showSuggestionAfterError(false)
    .configureOutput({
      // commander's own errors (unknown option, bad number …) as one causalmix line
      outputError: (str, write) => write(errorLine(str.replace(/^error: /, '')) + '\n'),
    });
  registerFit(program);
  registerOptimize(program);
  registerDemo(program);
  return program;
}

if (needsStderrFilter(process.argv)) {
  process.exitCode = await runWithFilteredStderr();
} else {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    process.stderr.write(errorLine(err) + '\n');
    process.exitCode = 1;
  }
}
