/**
 * The one set of JSON Schemas of Tau's views (draft 2020-12), shared by the HTTP API and the CLI:
 * - fastify validates requests and serialises responses with them, and the OpenAPI document at
 *   /api/openapi.json is assembled from the same objects (server/http/openapi.ts);
 * - `cli/schemas/*.schema.json`, the schema of each `tau` command's stdout, are generated from them
 *   (schemas-cli.ts; `npx tsx scripts/cli-schemas.ts`).
 * They mirror api.ts. Exported from the contract as the `Schemas` namespace (type names in api.ts are
 * the same words).
 *
 * Every schema registered in `COMPONENTS` appears once under `components.schemas` in the OpenAPI document
 * and under `$defs` of cli/schemas/common.schema.json when a command prints it; both match by object
 * identity, so a view is always referenced, never copied.
 */
import type { Schema } from "./schemas-base";
import * as D from "./schemas-dag";
import * as H from "./schemas-hosted";
import * as R from "./schemas-runs";
import * as W from "./schemas-workers";

export type { Schema } from "./schemas-base";
export * from "./schemas-runs";
export * from "./schemas-dag";
export * from "./schemas-hosted";
export * from "./schemas-workers";

/** Schemas listed under components.schemas in the OpenAPI document, by name. */
export const COMPONENTS: Record<string, Schema> = {
  ScheduleFireView: D.ScheduleFireView,
  ScheduleView: D.ScheduleView,
  ScheduleRequest: D.ScheduleRequest,
  DependsView: D.DependsView,
  DependsRequest: D.DependsRequest,
  DagNode: D.DagNode,
  DagView: D.DagView,
  DagTextView: D.DagTextView,
  GraphRunRequest: D.GraphRunRequest,
  GraphRunEntry: D.GraphRunEntry,
  GraphRunView: D.GraphRunView,
  ErrorResponse: R.ErrorResponse,
  ErrorBody: R.ErrorBody,
  RunError: R.RunError,
  StepView: R.StepView,
  LogLine: R.LogLine,
  RunSummary: R.RunSummary,
  RunView: R.RunView,
  PipelineVersionView: R.PipelineVersionView,
  PipelineView: R.PipelineView,
  PipelineDetailView: R.PipelineDetailView,
  DeployRequest: R.DeployRequest,
  DeployResponse: R.DeployResponse,
  RunRequest: R.RunRequest,
  RollbackRequest: R.RollbackRequest,
  RollbackResponse: R.RollbackResponse,
  CodeView: R.CodeView,
  ExecutorStatus: R.ExecutorStatus,
  StatusView: R.StatusView,
  VersionView: R.VersionView,
  RunEvent: R.RunEvent,
  EventPage: R.EventPage,
  WsClientMessage: R.WsClientMessage,
  WsServerMessage: R.WsServerMessage,
  SecretView: H.SecretView,
  SecretWritten: H.SecretWritten,
  SecretDeleted: H.SecretDeleted,
  PolicyView: H.PolicyView,
  TenantView: H.TenantView,
  IssuedToken: H.IssuedToken,
  RunPoint: H.RunPoint,
  HistoryView: H.HistoryView,
  WorkerView: W.WorkerView,
  WorkersView: W.WorkersView,
};
