// A DirectoryStore whose next rename first runs a "user edit" the test armed: the moment between
// the store's read and its write, where a user's save must never be lost.
import { DirectoryStore } from "../../src/store/directory/store.js";

export interface RacingStore {
  store: DirectoryStore;
  /** Run `edit` once, just before the store's next rename. */
  arm: (edit: () => Promise<void>) => void;
  disarm: () => void;
}

export function racingStore(dir: string): RacingStore {
  let race: (() => Promise<void>) | undefined;
  const store = new DirectoryStore({
    dir,
    hooks: {
      beforeRename: async () => {
        const r = race;
        race = undefined;
        await r?.();
      },
    },
  });
  return { store, arm: (edit) => void (race = edit), disarm: () => void (race = undefined) };
}
