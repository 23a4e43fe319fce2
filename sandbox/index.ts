/**
 * The sandbox's public surface: compile a pipeline file, describe a bundle and run it in executor processes.
 * Other folders import only from here.
 */
export type {
  PipelineMeta,
  CompileInput,
  CompiledPipeline,
  RunJob,
  SandboxEvent,
  RunOutcome,
  DescribeOutcome,
} from "./types";
export { ExecutorPool, type ExecutorPoolOptions } from "./pool";
export { validateMeta, cronProblem, timezoneValid, withRunControlDefaults, RUN_CONTROL_DEFAULTS, PIPELINE_NAME, type MetaValidation } from "./meta";
export { SecretScrubber } from "./scrub";
export { parseGuardedJson, stringifyGuarded, jsonDepth, type JsonLimits } from "./json-guard";
export { defaultExecutorPath, defaultGuestRuntimePath } from "./executor-paths";
export { compilePipeline, warmUpCompiler, MAX_SOURCE_BYTES, type CompileOptions, type SourceProblem } from "./compile";
export { createPipelineTypeChecker, type PipelineTypeChecker, type TypecheckDiagnostic, type TypecheckResult } from "./typecheck";
export {
  mapBundlePosition,
  parseGuestStack,
  guestStackFrames,
  locateGuestError,
  parseSourceMap,
  BUNDLE_FILENAME,
  type SourcePosition,
} from "./source-map";
