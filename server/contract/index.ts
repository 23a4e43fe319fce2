export * from "./errors";
export * from "./api";
export * as Schemas from "./schemas";
export { CLI_OUTPUTS, renderCliSchemas, type CliOutput } from "./schemas-cli";
