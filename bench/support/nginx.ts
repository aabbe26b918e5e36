/**
 * The nginx peer's configuration, one for every benchmark that measures against it: static files
 * from `root` with sendfile, the agent's URL layout (the boot script as a file, artifacts by
 * sha256), state and logs in `dir`.
 */
export interface StaticNginx {
  dir: string;
  root: string;
  listen: string;
  workers: number | 'auto';
  connections: number;
  backlog?: number;
}

export function staticNginxConf(o: StaticNginx): string {
  return `worker_processes ${o.workers};
pid ${o.dir}/nginx.pid;
error_log ${o.dir}/nginx-error.log;
events { worker_connections ${o.connections}; }
http {
  access_log off;
  sendfile on; tcp_nopush on;
  client_body_temp_path ${o.dir}/nginx-body; proxy_temp_path ${o.dir}/nginx-proxy; fastcgi_temp_path ${o.dir}/nginx-fcgi; uwsgi_temp_path ${o.dir}/nginx-uwsgi; scgi_temp_path ${o.dir}/nginx-scgi;
  server {
    listen ${o.listen}${o.backlog ? ` backlog=${o.backlog}` : ''};
    root ${o.root};
    location = /boot/v1/bootscript { default_type text/plain; }
    location /artifacts/ { default_type application/octet-stream; }
  }
}
`;
}
