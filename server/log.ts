/**
 * The daemon's logger: JSON lines on stderr (fastify's pino instance; stdout is reserved for the one
 * `listening` line). Services take this narrow interface, not fastify.
 */
export interface Logger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
