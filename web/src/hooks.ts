import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, request } from "./api/client";
import type { TypedDocumentString } from "./gql/graphql";

export interface QueryState<R> {
  data: R | null;
  error: ApiError | null;
  loading: boolean;
  reload(): void;
}

/** Runs a query when its variables change; the newest answer wins. Skipped while `variables` is null. */
export function useQuery<R, V>(document: TypedDocumentString<R, V>, variables: V | null): QueryState<R> {
  const [state, setState] = useState<{ data: R | null; error: ApiError | null; loading: boolean }>({
    data: null,
    error: null,
    loading: variables !== null,
  });
  const [generation, setGeneration] = useState(0);
  const key = variables === null ? null : JSON.stringify(variables);
  const latest = useRef(0);
  useEffect(() => {
    if (key === null) return;
    const ticket = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    request(document, JSON.parse(key))
      .then((data) => ticket === latest.current && setState({ data, error: null, loading: false }))
      .catch((error) => ticket === latest.current && setState((s) => ({ data: s.data, error: toApiError(error), loading: false })));
  }, [document, key, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(error instanceof Error ? error.message : String(error), "INTERNAL_SERVER_ERROR");
}

/** A value that follows `value` after it has been still for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** Sets the document title and moves focus to the page's heading when the page changes. */
export function usePageHeading(title: string) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Patchbay`;
    ref.current?.focus({ preventScroll: false });
  }, [title]);
  return ref;
}
