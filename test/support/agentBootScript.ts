/**
 * The first boot script a freshly started agent answers on loopback, polled while it starts:
 * '' when it never answered within the attempts (the caller says what it was waiting for).
 */
export async function firstBootScript(httpPort: number, mac = '02:00:00:00:00:01', attempts = 100): Promise<string> {
  for (let i = 0; i < attempts; i++) {
    const body = await fetch(`http://127.0.0.1:${httpPort}/boot/v1/bootscript?mac=${mac}`).then((r) => r.text(), () => '');
    if (body) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  return '';
}
