/**
 * What a pg-boss job carries: the RunJob, the API's epoch, and the run's secrets sealed. Decrypted secrets
 * never reach PostgreSQL in plaintext: each value is encrypted with the SecretCipher (TAU_SECRET_KEY, which
 * the API and the workers share) with the run id and the secret's name as additional authenticated data,
 * so a sealed value copied into another run's job does not open.
 */
import type { RunJob, RunJobSecrets } from "../../sandbox/types";
import { TauError } from "../contract";
import type { SecretCipher } from "../secrets";

export const JOB_FORMAT = 1;

export interface QueuedJob {
  format: typeof JOB_FORMAT;
  /** The API incarnation that queued it; workers drop jobs of another epoch. */
  epoch: string;
  job: Omit<RunJob, "secrets">;
  secrets: { sealed: Record<string, string>; environment: boolean } | null;
}

/** Binds a sealed value to its run: `run:<id>` takes the place of the tenant in the cipher's AAD. */
const aadOwner = (runId: string): string => `run:${runId}`;

export function sealJob(job: RunJob, epoch: string, cipher: SecretCipher | null): QueuedJob {
  const { secrets, ...rest } = job;
  return { format: JOB_FORMAT, epoch, job: rest, secrets: secrets ? sealSecrets(job.runId, secrets, cipher) : null };
}

function sealSecrets(runId: string, secrets: RunJobSecrets, cipher: SecretCipher | null): QueuedJob["secrets"] {
  const names = Object.keys(secrets.values);
  if (names.length > 0 && cipher === null) {
    throw new TauError("TAU_E_DAEMON_OPTIONS_INVALID", "Runs on workers need TAU_SECRET_KEY to pass the run's secrets to them encrypted.", { option: "TAU_SECRET_KEY" });
  }
  const sealed: Record<string, string> = {};
  for (const name of names) sealed[name] = cipher!.encrypt(aadOwner(runId), name, secrets.values[name]!);
  return { sealed, environment: secrets.environment };
}

/** The RunJob back, its secrets decrypted; throws TAU_E_SECRET_UNREADABLE when the keys differ. */
export function openJob(queued: QueuedJob, cipher: SecretCipher | null, dataDir: string): RunJob {
  const job: RunJob = { ...queued.job, dataDir };
  if (queued.secrets === null) return job;
  const values: Record<string, string> = {};
  for (const [name, sealed] of Object.entries(queued.secrets.sealed)) {
    if (cipher === null) throw new TauError("TAU_E_SECRET_UNREADABLE", "This worker has no TAU_SECRET_KEY to open the run's secrets.", { name });
    values[name] = cipher.decrypt(aadOwner(job.runId), name, sealed);
  }
  return { ...job, secrets: { values, environment: queued.secrets.environment } };
}
