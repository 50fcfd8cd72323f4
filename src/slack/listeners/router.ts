/**
 * Bolt runs the matchers of every registered listener on every request (`App.processEvent`): with
 * one listener per button, form and event, that was 21 chains of middleware per request, each a few
 * promises. The listeners register here instead. `mount` gives Bolt one listener per kind (actions,
 * views, events), matching exactly the IDs registered, which hands the request to the listener
 * registered for its ID with the arguments Bolt gave. Commands, shortcuts, options and functions go
 * to Bolt as they are (one or two each), and so does any constraint that is not a plain ID.
 */
import type { App } from '@slack/bolt';

/** What the listeners register with: Bolt's own methods (src/slack/listeners/index.ts). */
export type ListenerApp = Pick<
  App,
  'action' | 'view' | 'event' | 'shortcut' | 'command' | 'options' | 'function'
>;

type Routed = 'action' | 'view' | 'event';
type Listener = (args: never) => Promise<void>;

/** The ID Bolt matched a routed constraint against, read from the listener's arguments. */
const idOf: Record<Routed, (args: Record<string, unknown>) => unknown> = {
  action: (args) => (args.payload as { action_id?: unknown } | undefined)?.action_id,
  view: (args) => (args.view as { callback_id?: unknown } | undefined)?.callback_id,
  event: (args) => (args.event as { type?: unknown } | undefined)?.type,
};

const exactly = (ids: Iterable<string>) =>
  new RegExp(`^(?:${[...ids].map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);

export function listenerRouter(app: App): ListenerApp & { mount(): void } {
  const routes: Record<Routed, Map<string, Listener>> = {
    action: new Map(),
    view: new Map(),
    event: new Map(),
  };
  /** Bolt's own registration, as the listeners would have called it. */
  const register = (kind: Routed, ...args: unknown[]) =>
    (app[kind] as unknown as (...a: unknown[]) => void).apply(app, args);
  const route =
    (kind: Routed) =>
    (constraint: unknown, ...listeners: Listener[]): void => {
      const [listener] = listeners;
      if (typeof constraint !== 'string' || listeners.length !== 1 || !listener) {
        register(kind, constraint, ...listeners);
        return;
      }
      if (routes[kind].has(constraint)) throw new Error(`${kind} ${constraint} has a listener already`);
      routes[kind].set(constraint, listener);
    };
  const router = {
    action: route('action'),
    view: route('view'),
    event: route('event'),
    command: app.command.bind(app),
    shortcut: app.shortcut.bind(app),
    options: app.options.bind(app),
    function: app.function.bind(app),
    mount() {
      for (const kind of Object.keys(routes) as Routed[]) {
        const byId = routes[kind];
        if (byId.size === 0) continue;
        // Bolt matched one of the IDs: the listener registered for it (never undefined).
        register(kind, exactly(byId.keys()), (args: Record<string, unknown>) =>
          (byId.get(String(idOf[kind](args))) as (args: Record<string, unknown>) => Promise<void>)(args),
        );
      }
    },
  };
  return router as unknown as ListenerApp & { mount(): void };
}
