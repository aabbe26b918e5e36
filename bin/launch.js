// How each bin starts: the precompiled bundle from `npm run build:cli` (dist/cli/) when it is at
// least as new as every source file it was built from, so an edit is never shadowed by an old
// build; otherwise the TypeScript itself through tsx's loader (slower to start, no build step).
// Plain JavaScript: it runs before any loader. SKYBOOT_NO_BUNDLE=1 forces the tsx path.
import { readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
export const BUNDLE_DIR = new URL('dist/cli/', root);
export const MANIFEST = new URL('manifest.json', BUNDLE_DIR);

/** The bundle of `name` if every input listed in the manifest is older than it, else null. */
export function freshBundle(name) {
  try {
    const entry = JSON.parse(readFileSync(MANIFEST, 'utf8')).bundles[name];
    if (!entry) return null;
    const bundle = new URL(entry.file, BUNDLE_DIR);
    const built = statSync(bundle).mtimeMs;
    for (const input of entry.inputs) if (statSync(new URL(input, root)).mtimeMs > built) return null;
    return bundle;
  } catch {
    // No build, or an input gone: the sources are the truth.
    return null;
  }
}

export async function launch(name, tsEntry) {
  const bundle = process.env.SKYBOOT_NO_BUNDLE ? null : freshBundle(name);
  if (bundle) {
    await import(bundle.href);
    return;
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL(tsEntry, root).href);
}
