/**
 * Imported first by benchmarks that run the local cloud in their own process: its per-request
 * logs would bury the bench's output. Set before the logger module is evaluated (ESM evaluates
 * imports in order); SKYBOOT_LOG_LEVEL given on the command line still wins.
 */
process.env.SKYBOOT_LOG_LEVEL ??= 'WARN';
export {};
