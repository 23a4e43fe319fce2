/**
 * taud, the control plane: `createDaemon(options)` starts one (tests start it in-process on port 0 with a
 * temporary home); `compileDaemonOptions(argv, env)` turns a command line and TAU_* variables into options.
 */
export { createDaemon, LOCAL_TENANT, type Daemon, type DaemonDependencies } from "./daemon";
export { compileDaemonOptions, DAEMON_USAGE, type DaemonOptions, type CompiledDaemonOptions, type LogLevel } from "./options";
export type { ExecutorPoolPort, CompilePipeline } from "./sandbox-port";
