/**
 * Secrets on the host side of the bridge. `secret.check` answers a marker (`{{tau.secret:NAME}}`), never the
 * value; markers inside `connector.open` options are replaced by values here, on the host, after the same
 * checks (a guest can write a marker without asking). Every resolved value is registered with the run's
 * scrubber before it is used.
 */
import { checkSecret, type Policy } from "../../policies";
import { TauError } from "../../server/contract";
import type { SecretScrubber } from "../scrub";

/** Where secret values come from. Local mode: the executor's environment. */
export interface SecretSource {
  get(tenantId: string, name: string): string | undefined;
}

export class EnvSecretSource implements SecretSource {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  get(_tenantId: string, name: string): string | undefined {
    return Object.prototype.hasOwnProperty.call(this.env, name) ? this.env[name] : undefined;
  }
}

/** A run's secrets as the daemon resolved them (RunJob.secrets), then the environment when allowed. */
export class JobSecretSource implements SecretSource {
  constructor(
    private readonly job: { values: Record<string, string>; environment: boolean },
    private readonly environment: SecretSource,
  ) {}

  get(tenantId: string, name: string): string | undefined {
    if (Object.prototype.hasOwnProperty.call(this.job.values, name)) return this.job.values[name];
    return this.job.environment ? this.environment.get(tenantId, name) : undefined;
  }
}

export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MARKER = /\{\{tau\.secret:([^{}]*)\}\}/g;

export function markerFor(name: string): string {
  return `{{tau.secret:${name}}}`;
}

export class RunSecrets {
  constructor(
    private readonly source: SecretSource,
    private readonly tenantId: string,
    private readonly policy: Policy,
    private readonly scrubber: SecretScrubber,
  ) {}

  /** Checks that the secret exists and may be read; registers its value for scrubbing. Throws TauError. */
  resolve(name: unknown): string {
    if (typeof name !== "string" || !SECRET_NAME.test(name)) {
      throw new TauError("TAU_E_SECRET_NOT_FOUND", "Not a secret name: use letters, digits and '_' (not starting with a digit), at most 128 characters.", {
        name: typeof name === "string" ? name.slice(0, 140) : null,
      });
    }
    const denial = checkSecret(this.policy, name);
    if (denial) throw new TauError("TAU_E_POLICY_DENIED", denial.message, { rule: denial.rule, secret: name });
    const value = this.source.get(this.tenantId, name);
    if (value === undefined) throw new TauError("TAU_E_SECRET_NOT_FOUND", `No secret named ${name}.`, { secret: name });
    this.scrubber.add(name, value);
    return value;
  }

  /** `secret.check`: the marker the guest uses in place of the value. */
  check(name: unknown): { marker: string } {
    this.resolve(name);
    return { marker: markerFor(name as string) };
  }

  /** Replaces markers in every string of connector options (iteratively: options are guest JSON). */
  substitute(options: Record<string, unknown>): Record<string, unknown> {
    const replace = (s: string): string => (s.includes("{{tau.secret:") ? s.replace(MARKER, (_m, name: string) => this.resolve(name)) : s);
    const root: Record<string, unknown> = {};
    const stack: Array<[Record<string, unknown> | unknown[], string | number, unknown]> = [];
    for (const [k, v] of Object.entries(options)) stack.push([root, k, v]);
    while (stack.length > 0) {
      const [target, key, value] = stack.pop()!;
      let out: unknown = value;
      if (typeof value === "string") out = replace(value);
      else if (Array.isArray(value)) {
        const copy: unknown[] = new Array(value.length);
        value.forEach((v, i) => stack.push([copy, i, v]));
        out = copy;
      } else if (typeof value === "object" && value !== null) {
        const copy: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) stack.push([copy, k, v]);
        out = copy;
      }
      (target as Record<string | number, unknown>)[key] = out;
    }
    // Keys were filled in reverse; rebuild in the guest's order for drivers that care.
    return Object.fromEntries(Object.keys(options).map((k) => [k, root[k]]));
  }
}
