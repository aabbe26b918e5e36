/** One API read per component mount (and per change of its key), with its loading and error states. */
import { useEffect, useState } from 'react';

export type Loaded<T> = { status: 'loading' } | { status: 'error'; error: Error } | { status: 'ok'; data: T };

export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ status: 'loading' });
  useEffect(() => {
    let live = true;
    setState({ status: 'loading' });
    load().then(
      (data) => live && setState({ status: 'ok', data }),
      (error: Error) => live && setState({ status: 'error', error }),
    );
    return () => {
      live = false;
    };
    // The key names everything `load` depends on.
  }, [key]);
  return state;
}

/**
 * Like useLoad, then read again every `everyMs` while `more(data)` holds (a session still rolling,
 * a boot still going). The last answer stays on screen while the next is read; a failed read is
 * shown and retried on the same clock, since a blip of the API should not end a live view.
 */
export function usePolled<T>(load: () => Promise<T>, key: string, everyMs: number, more: (data: T) => boolean): Loaded<T> & { refreshedAt: number | null } {
  const [state, setState] = useState<Loaded<T> & { refreshedAt: number | null }>({ status: 'loading', refreshedAt: null });
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState({ status: 'loading', refreshedAt: null });
    const read = () => {
      load().then(
        (data) => {
          if (!live) return;
          setState({ status: 'ok', data, refreshedAt: Date.now() });
          if (more(data)) timer = setTimeout(read, everyMs);
        },
        (error: Error) => {
          if (!live) return;
          setState({ status: 'error', error, refreshedAt: Date.now() });
          timer = setTimeout(read, everyMs);
        },
      );
    };
    read();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
    // The key names everything `load` and `more` depend on.
  }, [key]);
  return state;
}
