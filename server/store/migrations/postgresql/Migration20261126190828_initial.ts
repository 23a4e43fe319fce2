import { Migration } from '@mikro-orm/migrations';

export class Migration20261126190828_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "event" ("seq" bigserial primary key, "tenant_id" varchar(64) not null, "run_id" varchar(32) not null, "pipeline" varchar(64) not null, "ts" bigint not null, "kind" varchar(16) not null, "level" varchar(8) null, "step" varchar(255) null, "message" text null, "data" json null);`);
    this.addSql(`create index "event_run_id_seq_index" on "event" ("run_id", "seq");`);
    this.addSql(`create index "event_pipeline_seq_index" on "event" ("pipeline", "seq");`);

    this.addSql(`create table "tenant" ("id" varchar(64) not null, "name" varchar(255) not null, "created_at" bigint not null, constraint "tenant_pkey" primary key ("id"));`);

    this.addSql(`create table "pipeline" ("id" serial primary key, "tenant_id" varchar(64) not null, "name" varchar(64) not null, "current_version" int not null, "filename" text not null, "description" text not null, "schedule" varchar(255) null, "enabled" boolean not null, "tags" json not null, "depends_on" json not null, "timeout_sec" int null, "retries" int not null default 0, "retry_delay_sec" double precision not null default 10, "max_concurrent_runs" int not null default 1, "created_at" bigint not null, "updated_at" bigint not null, "schedule_timezone" varchar(64) null, "schedule_override" json null, "next_run_at" bigint null, "last_fire" json null, "depends_on_override" json null, "allow_overlap" boolean null, "catch_up" int null);`);
    this.addSql(`alter table "pipeline" add constraint "pipeline_tenant_id_name_unique" unique ("tenant_id", "name");`);

    this.addSql(`create table "run" ("id" varchar(32) not null, "tenant_id" varchar(64) not null, "pipeline_id" int not null, "version" int not null, "status" varchar(16) not null, "trigger" varchar(16) not null, "params" json not null, "queued_at" bigint not null, "started_at" bigint null, "finished_at" bigint null, "result" json null, "error" json null, "executor" varchar(255) null, "attempt" int not null default 1, "max_attempts" int not null default 1, "retry_of" varchar(32) null, "retried_by" varchar(32) null, "not_before" bigint null, "graph_run_id" varchar(32) null, constraint "run_pkey" primary key ("id"));`);
    this.addSql(`create index "run_pipeline_id_id_index" on "run" ("pipeline_id", "id");`);
    this.addSql(`create index "run_pipeline_id_status_finished_at_index" on "run" ("pipeline_id", "status", "finished_at");`);
    this.addSql(`create index "run_tenant_id_status_finished_at_index" on "run" ("tenant_id", "status", "finished_at");`);
    this.addSql(`create index "run_graph_run_id_index" on "run" ("graph_run_id");`);

    this.addSql(`create table "step" ("id" bigserial primary key, "tenant_id" varchar(64) not null, "run_id" varchar(32) not null, "position" int not null, "name" varchar(255) not null, "status" varchar(16) not null, "started_at" bigint not null, "finished_at" bigint null, "duration_ms" bigint null, "rows_in" bigint null, "rows_out" bigint null, "meta" json not null, "error" json null);`);
    this.addSql(`alter table "step" add constraint "step_run_id_position_unique" unique ("run_id", "position");`);

    this.addSql(`create table "pipeline_version" ("id" serial primary key, "tenant_id" varchar(64) not null, "pipeline_id" int not null, "version" int not null, "hash" varchar(64) not null, "source" text not null, "bundle" text not null, "source_map" text not null, "source_bytes" int not null, "filename" text not null, "meta" json not null, "created_at" bigint not null);`);
    this.addSql(`alter table "pipeline_version" add constraint "pipeline_version_pipeline_id_version_unique" unique ("pipeline_id", "version");`);

    this.addSql(`create table "graph_run" ("id" varchar(32) not null, "tenant_id" varchar(64) not null, "root" varchar(64) null, "status" varchar(16) not null, "groups" json not null, "started_at" bigint not null, "finished_at" bigint null, constraint "graph_run_pkey" primary key ("id"));`);
    this.addSql(`create index "graph_run_tenant_id_status_index" on "graph_run" ("tenant_id", "status");`);

    this.addSql(`create table "tenant_policy" ("tenant_id" varchar(64) not null, "policy" json not null, "updated_at" bigint not null, constraint "tenant_policy_pkey" primary key ("tenant_id"));`);

    this.addSql(`create table "tenant_secret" ("id" serial primary key, "tenant_id" varchar(64) not null, "name" varchar(128) not null, "value" text not null, "created_at" bigint not null, "updated_at" bigint not null);`);
    this.addSql(`alter table "tenant_secret" add constraint "tenant_secret_tenant_id_name_unique" unique ("tenant_id", "name");`);

    this.addSql(`alter table "pipeline" add constraint "pipeline_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade;`);

    this.addSql(`alter table "run" add constraint "run_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade;`);
    this.addSql(`alter table "run" add constraint "run_pipeline_id_foreign" foreign key ("pipeline_id") references "pipeline" ("id") on update cascade;`);

    this.addSql(`alter table "step" add constraint "step_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade;`);
    this.addSql(`alter table "step" add constraint "step_run_id_foreign" foreign key ("run_id") references "run" ("id") on update cascade;`);

    this.addSql(`alter table "pipeline_version" add constraint "pipeline_version_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade;`);
    this.addSql(`alter table "pipeline_version" add constraint "pipeline_version_pipeline_id_foreign" foreign key ("pipeline_id") references "pipeline" ("id") on update cascade;`);

    this.addSql(`alter table "graph_run" add constraint "graph_run_tenant_id_foreign" foreign key ("tenant_id") references "tenant" ("id") on update cascade;`);
  }

}
