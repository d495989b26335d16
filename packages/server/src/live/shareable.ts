/**
 * Live events that every subscriber with the same operation, variables and actor may share a result of
 * (see useSharedLiveExecution). Kept apart from the plugin so domain services can mark events without
 * importing Yoga.
 */
const shareable = new WeakSet<object>();

/** Marks a live event (a public payload whose result depends only on the operation and the actor) as shareable. */
export function markShareable<T extends object>(event: T): T {
  shareable.add(event);
  return event;
}

export function isShareable(event: unknown): event is object {
  return event !== null && typeof event === 'object' && shareable.has(event);
}
