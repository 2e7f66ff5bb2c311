// The chaos half of causal-review, as the CLI and the GitHub app use it: plan and run the
// experiments, and read, check and render the results.json a run leaves behind.

export { chaosCommand, parseChaosArgs, CHAOS_USAGE, UsageError, type ChaosArgs, type ChaosIo } from './cli.js';
export { chaosPlan, renderPlan, vclusterYaml, kindConfig, type ChaosPlan, type PlannedExperiment } from './plan.js';
export { chaosRun, type ChaosRunOptions } from './runner.js';
export { CHAOS_SCHEMA, ChaosConfigError, INVARIANT_IDS, resolveChaosSettings, type ChaosSettings, type InvariantId } from './config.js';
export { EXPERIMENTS, selectExperiments, type Experiment } from './experiments.js';
export {
  RESULTS_SCHEMA,
  RESULTS_SCHEMA_VERSION,
  MAX_SUMMARY_CHARS,
  validateResults,
  renderChaosSummary,
  tally,
  type ChaosResults,
  type ExperimentResult,
  type InvariantResult,
  type FaultRecord,
  type Evidence,
} from './results.js';
