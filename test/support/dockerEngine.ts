/** Whether a Docker engine answers, without waiting long: the harness's choice of LocalStack hangs on it. */
import { request } from 'node:http';
import { existsSync } from 'node:fs';

export function dockerEngineAnswers(timeoutMs = 1500): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  let options: { host: string; port: number } | { socketPath: string };
  if (host?.startsWith('tcp://')) {
    const url = new URL(host.replace('tcp://', 'http://'));
    options = { host: url.hostname, port: Number(url.port || 2375) };
  } else {
    const socketPath = host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
    if (!existsSync(socketPath)) return Promise.resolve(false);
    options = { socketPath };
  }
  return new Promise((resolve) => {
    const req = request({ ...options, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
