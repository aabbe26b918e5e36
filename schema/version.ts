/** The release both CLIs print with --version: package.json's, read once from the repository root. */
import { readFileSync } from 'node:fs';

/** Set by the bundler (onprem-agent/deploy/build.ts): a bundle runs where no package.json is. */
declare const __SKYBOOT_VERSION__: string | undefined;

export function packageVersion(): string {
  if (typeof __SKYBOOT_VERSION__ === 'string') return __SKYBOOT_VERSION__;
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
