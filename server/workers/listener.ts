/**
 * One dedicated PostgreSQL connection that LISTENs on some channels, reconnecting (every second) when the
 * connection drops. Notifications are a wake-up, never the data: after a reconnect `onReconnect` runs so the
 * owner looks at the tables again for anything it missed.
 */
import pg from "pg";

export interface ListenerOptions {
  connectionString: string;
  channels: readonly string[];
  onNotify: (channel: string, payload: string) => void;
  onReconnect?: () => void;
  onError: (err: unknown) => void;
}

export class Listener {
  private client: pg.Client | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly o: ListenerOptions) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.o.connectionString, application_name: "tau-workers-listen" });
    client.on("notification", (msg) => this.o.onNotify(msg.channel, msg.payload ?? ""));
    client.on("error", (err) => {
      this.o.onError(err);
      this.reconnectLater(client);
    });
    client.on("end", () => this.reconnectLater(client));
    await client.connect();
    for (const channel of this.o.channels) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private reconnectLater(client: pg.Client): void {
    if (this.closed || this.client !== client) return;
    this.client = null;
    client.end().catch(() => undefined);
    const attempt = (): void => {
      this.retry = null;
      if (this.closed) return;
      this.connect().then(
        () => this.o.onReconnect?.(),
        (err: unknown) => {
          this.o.onError(err);
          this.retry = setTimeout(attempt, 1_000);
        },
      );
    };
    this.retry = setTimeout(attempt, 1_000);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
