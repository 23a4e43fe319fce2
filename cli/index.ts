/** The `tau` CLI's public surface. */
export { main, COMMANDS, type MainIo } from "./main";
export { TauClient } from "./client";
export { resolveClientOptions, DEFAULT_HOST, type ClientOptions } from "./config";
export { EXIT, exitCodeFor } from "./exit-codes";
export { formatDocument, formatLine, sortKeys } from "./output";
