/**
 * --during-rotation: the bench person rotates the first workspace's data key as a measured run
 * starts, and the re-encryption of its connections (Patchbay's background job) is watched
 * until nothing is pending, so the report can say how much of the run it overlapped.
 */
import { gql } from "./graphql";
import type { Manifest } from "./seed";

export interface RotationWatch {
  /** Sealed values still under the old key when the rotation was asked for. */
  pendingAtStart: number;
  /** Resolves when nothing is pending any more (or the watch is stopped), with the seconds it took. */
  finished: Promise<number | null>;
  stop(): void;
}

export async function logInForRotation(url: string, manifest: Manifest): Promise<string> {
  if (!manifest.person) throw new Error("--during-rotation needs a data set seeded by this version of the benchmark (it logs in as the bench person); use a new --data-dir.");
  const answer = await gql(url, null, `mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }`, {
    e: manifest.person.email,
    p: manifest.person.password,
  });
  return answer.logIn.token as string;
}

export async function startRotation(url: string, session: string, manifest: Manifest): Promise<RotationWatch> {
  const workspace = manifest.seeded[0];
  const started = performance.now();
  const rotated = await gql(url, session, `mutation($w: ID!) { rotateWorkspaceKey(workspaceId: $w) { currentVersion pendingReencryption } }`, { w: workspace.id });
  let stopped = false;
  const finished = (async () => {
    while (!stopped) {
      const status = await gql(url, session, `query($s: String!) { workspace(slug: $s) { keyStatus { pendingReencryption } } }`, { s: workspace.slug });
      if (status.workspace.keyStatus.pendingReencryption === 0) return (performance.now() - started) / 1000;
      await new Promise((wait) => setTimeout(wait, 250));
    }
    return null;
  })();
  return { pendingAtStart: rotated.rotateWorkspaceKey.pendingReencryption as number, finished, stop: () => (stopped = true) };
}
