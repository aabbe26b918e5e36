/**
 * How every Lambda is bundled. The NodejsFunction options and the plain esbuild options (used
 * by the bundling test's size check and by bench/coldstart) derive from the one description
 * below, so the bench measures exactly what the stack deploys.
 */
import { join } from 'node:path';
import { OutputFormat, SourceMapMode, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { REPO_ROOT, SCHEMA_BUNDLE_DIR, type HandlerSpec } from './handlers.js';

/**
 * ESM output cannot `require()`, but CommonJS dependencies bundled into it still call it
 * (esbuild's __require shim). The banner gives them a real one. The import is aliased so it
 * cannot collide with a bundled module's own top-level `createRequire` import.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __skybootCreateRequire } from 'node:module'; const require = __skybootCreateRequire(import.meta.url);";

export const BUNDLE = {
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: true,
  // Source maps are for stack traces only; leaving the sources out keeps the asset small.
  sourcesContent: false,
  // Prefer packages' ESM builds: they tree-shake better than their CommonJS ones.
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
} as const;

/** The file name NodejsFunction gives an ESM bundle; the handler string is `index.handler`. */
export const BUNDLE_FILE = 'index.mjs';

/**
 * Apollo Server's optional plugins, as its ApolloServer.js imports them on demand (`await
 * import('./plugin/…')`). A single-file bundle would inline them (with them the Apollo usage
 * protobuf in both its ES and CommonJS builds: about 260 KiB, a quarter of the gateway). The
 * gateway installs their Disabled plugins (gateway/server.ts), so Apollo never runs these
 * imports; left external (for specs with `apolloPluginsDisabled`) they stay out of its bundle.
 * The bundling test starts the gateway bundle and answers a request with it, so a future Apollo
 * that reached one would fail there.
 */
export const UNUSED_APOLLO_PLUGINS = [
  './plugin/usageReporting/index.js',
  './plugin/schemaReporting/index.js',
  './plugin/inlineTrace/index.js',
  './plugin/landingPage/default/index.js',
] as const;

export function externalModules(spec: HandlerSpec): string[] {
  return [...(spec.sdk === 'runtime' ? ['@aws-sdk/*'] : []), ...(spec.apolloPluginsDisabled ? UNUSED_APOLLO_PLUGINS : [])];
}

/** The shell commands that put schema/*.graphql beside the bundle (run by the CDK after esbuild). */
export function schemaCopyCommands(inputDir: string, outputDir: string): string[] {
  return [
    `mkdir -p "${join(outputDir, SCHEMA_BUNDLE_DIR)}"`,
    `cp "${join(inputDir, 'schema')}"/*.graphql "${join(outputDir, SCHEMA_BUNDLE_DIR)}/"`,
  ];
}

export function nodejsBundling(spec: HandlerSpec): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: BUNDLE.target,
    minify: BUNDLE.minify,
    sourceMap: BUNDLE.sourcemap,
    sourceMapMode: SourceMapMode.DEFAULT,
    sourcesContent: BUNDLE.sourcesContent,
    mainFields: [...BUNDLE.mainFields],
    banner: BUNDLE.banner,
    externalModules: externalModules(spec),
    // There is no Docker engine on our build hosts; the locally installed esbuild is used.
    forceDockerBundling: false,
    ...(spec.needsSchema
      ? {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) => schemaCopyCommands(inputDir, outputDir),
          },
        }
      : {}),
  };
}

/** The same build as plain esbuild options, for tools that call esbuild directly. */
export function esbuildOptions(spec: HandlerSpec, outdir: string, root = REPO_ROOT) {
  return {
    entryPoints: [join(root, spec.entry)],
    outfile: join(outdir, BUNDLE_FILE),
    bundle: true,
    platform: 'node' as const,
    format: BUNDLE.format,
    target: BUNDLE.target,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourcemap,
    sourcesContent: BUNDLE.sourcesContent,
    mainFields: [...BUNDLE.mainFields],
    banner: { js: BUNDLE.banner },
    external: externalModules(spec),
    logLevel: 'warning' as const,
  };
}
