import { Migration } from '@mikro-orm/migrations';

export class Migration20261126190828_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`event\` (\`seq\` integer not null primary key autoincrement, \`tenant_id\` text not null, \`run_id\` text not null, \`pipeline\` text not null, \`ts\` integer not null, \`kind\` text not null, \`level\` text null, \`step\` text null, \`message\` text null, \`data\` json null);`);
    this.addSql(`create index \`event_run_id_seq_index\` on \`event\` (\`run_id\`, \`seq\`);`);
    this.addSql(`create index \`event_pipeline_seq_index\` on \`event\` (\`pipeline\`, \`seq\`);`);

    this.addSql(`create table \`tenant\` (\`id\` text not null, \`name\` text not null, \`created_at\` integer not null, primary key (\`id\`));`);

    this.addSql(`create table \`pipeline\` (\`id\` integer not null primary key autoincrement, \`tenant_id\` text not null, \`name\` text not null, \`current_version\` integer not null, \`filename\` text not null, \`description\` text not null, \`schedule\` text null, \`enabled\` integer not null, \`tags\` json not null, \`depends_on\` json not null, \`timeout_sec\` integer null, \`retries\` integer not null default 0, \`retry_delay_sec\` double not null default 10, \`max_concurrent_runs\` integer not null default 1, \`created_at\` integer not null, \`updated_at\` integer not null, \`schedule_timezone\` text null, \`schedule_override\` json null, \`next_run_at\` integer null, \`last_fire\` json null, \`depends_on_override\` json null, \`allow_overlap\` integer null, \`catch_up\` integer null, constraint \`pipeline_tenant_id_foreign\` foreign key(\`tenant_id\`) references \`tenant\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`pipeline_tenant_id_name_unique\` on \`pipeline\` (\`tenant_id\`, \`name\`);`);

    this.addSql(`create table \`run\` (\`id\` text not null, \`tenant_id\` text not null, \`pipeline_id\` integer not null, \`version\` integer not null, \`status\` text not null, \`trigger\` text not null, \`params\` json not null, \`queued_at\` integer not null, \`started_at\` integer null, \`finished_at\` integer null, \`result\` json null, \`error\` json null, \`executor\` text null, \`attempt\` integer not null default 1, \`max_attempts\` integer not null default 1, \`retry_of\` text null, \`retried_by\` text null, \`not_before\` integer null, \`graph_run_id\` text null, constraint \`run_tenant_id_foreign\` foreign key(\`tenant_id\`) references \`tenant\`(\`id\`) on update cascade, constraint \`run_pipeline_id_foreign\` foreign key(\`pipeline_id\`) references \`pipeline\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`run_pipeline_id_id_index\` on \`run\` (\`pipeline_id\`, \`id\`);`);
    this.addSql(`create index \`run_pipeline_id_status_finished_at_index\` on \`run\` (\`pipeline_id\`, \`status\`, \`finished_at\`);`);
    this.addSql(`create index \`run_tenant_id_status_finished_at_index\` on \`run\` (\`tenant_id\`, \`status\`, \`finished_at\`);`);
    this.addSql(`create index \`run_graph_run_id_index\` on \`run\` (\`graph_run_id\`);`);

    this.addSql(`create table \`step\` (\`id\` integer not null primary key autoincrement, \`tenant_id\` text not null, \`run_id\` text not null, \`position\` integer not null, \`name\` text not null, \`status\` text not null, \`started_at\` integer not null, \`finished_at\` integer null, \`duration_ms\` integer null, \`rows_in\` integer null, \`rows_out\` integer null, \`meta\` json not null, \`error\` json null, constraint \`step_tenant_id_foreign\` foreign key(\`tenant_id\`) references \`tenant\`(\`id\`) on update cascade, constraint \`step_run_id_foreign\` foreign key(\`run_id\`) references \`run\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`step_run_id_position_unique\` on \`step\` (\`run_id\`, \`position\`);`);

    this.addSql(`create table \`pipeline_version\` (\`id\` integer not null primary key autoincrement, \`tenant_id\` text not null, \`pipeline_id\` integer not null, \`version\` integer not null, \`hash\` text not null, \`source\` text not null, \`bundle\` text not null, \`source_map\` text not null, \`source_bytes\` integer not null, \`filename\` text not null, \`meta\` json not null, \`created_at\` integer not null, constraint \`pipeline_version_tenant_id_foreign\` foreign key(\`tenant_id\`) references \`tenant\`(\`id\`) on update cascade, constraint \`pipeline_version_pipeline_id_foreign\` foreign key(\`pipeline_id\`) references \`pipeline\`(\`id\`) on update cascade);`);
    this.addSql(`create unique index \`pipeline_version_pipeline_id_version_unique\` on \`pipeline_version\` (\`pipeline_id\`, \`version\`);`);

    this.addSql(`create table \`graph_run\` (\`id\` text not null, \`tenant_id\` text not null, \`root\` text null, \`status\` text not null, \`groups\` json not null, \`started_at\` integer not null, \`finished_at\` integer null, constraint \`graph_run_tenant_id_foreign\` foreign key(\`tenant_id\`) references \`tenant\`(\`id\`) on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`graph_run_tenant_id_status_index\` on \`graph_run\` (\`tenant_id\`, \`status\`);`);

    this.addSql(`create table \`tenant_policy\` (\`tenant_id\` text not null, \`policy\` json not null, \`updated_at\` integer not null, primary key (\`tenant_id\`));`);

    this.addSql(`create table \`tenant_secret\` (\`id\` integer not null primary key autoincrement, \`tenant_id\` text not null, \`name\` text not null, \`value\` text not null, \`created_at\` integer not null, \`updated_at\` integer not null);`);
    this.addSql(`create unique index \`tenant_secret_tenant_id_name_unique\` on \`tenant_secret\` (\`tenant_id\`, \`name\`);`);
  }

}
