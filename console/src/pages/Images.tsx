/** Every image, newest version first within a name, with its artifacts and labels. */
import { images } from '../queries.js';
import { useLoad } from '../useQuery.js';

const mib = (bytes: number | null) => (bytes === null ? '—' : `${(bytes / 1048576).toFixed(1)} MiB`);

export function Images() {
  const loaded = useLoad(images, 'images');
  if (loaded.status === 'loading') return <p>Loading images…</p>;
  if (loaded.status === 'error') return <p className="error" role="alert">{loaded.error.message}</p>;
  return (
    <section className="images">
      <h1>Images</h1>
      {loaded.data.length === 0 && <p>No images yet: push one with <code>npx skyboot image push</code>.</p>}
      <table className="list">
        <thead><tr><th>Name</th><th>Version</th><th>Arch</th><th>Status</th><th>Artifacts</th><th>Labels</th><th>Created</th><th>Id</th></tr></thead>
        <tbody>
          {loaded.data.map((i) => (
            <tr key={i.id}>
              <td>{i.name}</td><td>{i.version}</td><td>{i.arch}</td><td title={i.reason ?? ''}>{i.status}</td>
              <td>{i.artifacts.map((a) => `${a.type} ${mib(a.size)}`).join(', ')}</td>
              <td>{i.labels.map((l) => `${l.key}=${l.value}`).join(', ')}</td>
              <td>{i.createdAt}</td><td><code>{i.id}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
