export default async function globalTeardown() {
  await Promise.all((globalThis.__skybootEmulators ?? []).map((e) => e.stop()));
}
