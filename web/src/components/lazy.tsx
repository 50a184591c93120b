/**
 * A page loaded on first use: admin pages most people never open stay out of the bundle every
 * page loads (Vite splits each dynamic import into its own hashed file, served like the rest).
 */
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { Alert, Loading } from "./common";

export function lazyPage<P extends object>(what: string, load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  return function LazyPage(props: P) {
    const [Page, setPage] = useState<ComponentType<P> | null>(() => loaded);
    const [failed, setFailed] = useState(false);
    useEffect(() => {
      if (Page) return;
      load()
        .then((page) => {
          loaded = page;
          setPage(() => page);
        })
        .catch(() => setFailed(true));
    }, []);
    if (failed) return <Alert>The {what} page could not be loaded. Reload to try again.</Alert>;
    return Page ? <Page {...props} /> : <Loading what={`the ${what} page`} />;
  };
}
