/**
 * A connection type's driver, imported the first time a connection of that type is tested
 * rather than at start-up: together the drivers were most of the server's import time and a
 * good part of its idle memory, and most processes only ever test a few types.
 */
export interface LazyDriver<Module> {
  /** The driver module, imported on the first call; later calls share that import. */
  load(): Promise<Module>;
  /** The module if a load() has finished, else undefined: errors of a driver never loaded cannot be its own. */
  loaded(): Module | undefined;
}

export function lazyDriver<Module>(importDriver: () => Promise<Module>): LazyDriver<Module> {
  let pending: Promise<Module> | undefined;
  let module: Module | undefined;
  return {
    load() {
      pending ??= importDriver().then(
        (imported) => (module = imported),
        (error: unknown) => {
          // A failed import (a missing package) is retried by the next test rather than remembered.
          pending = undefined;
          throw error;
        },
      );
      return pending;
    },
    loaded: () => module,
  };
}
