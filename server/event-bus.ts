/**
 * In-process fan-out of stored events (WebSocket subscribers, `wait` requests). The store publishes here
 * only after an event is committed, in seq order; a listener that throws does not stop the others.
 */
import type { TenantEvent } from "./store";

export type EventListener = (event: TenantEvent) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly onListenerError: (err: unknown) => void) {}

  /** Returns the function that unsubscribes. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  publish(events: readonly TenantEvent[]): void {
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (err) {
          this.onListenerError(err);
        }
      }
    }
  }
}
