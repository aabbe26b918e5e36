/**
 * The node table: every node of the filter, read from the API a page (1,000) at a time and
 * shown as soon as the first page arrives; the rows on screen are the only ones rendered
 * (virtual scrolling), so 10,000 nodes scroll like 100. The state filter is the API's; the
 * search box narrows the loaded rows by xname, NID, MAC, IP, role or group.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { createColumnHelper, flexRender, getCoreRowModel, getFilteredRowModel, getSortedRowModel, useReactTable, type FilterFn, type SortingState } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import { nodePage, STATES, type NodeRow } from '../queries.js';
import { href } from '../router.js';

const col = createColumnHelper<NodeRow>();
const columns = [
  col.accessor('xname', { header: 'Xname', cell: (c) => <a href={href({ page: 'node', xname: c.getValue(), site: c.row.original.site })}>{c.getValue()}</a>, size: 190 }),
  col.accessor('site', { header: 'Site', size: 100 }),
  col.accessor('nid', { header: 'NID', size: 70 }),
  col.accessor('state', { header: 'State', cell: (c) => <span className={`state state-${c.getValue()}`}>{c.getValue()}</span>, size: 100 }),
  col.accessor('flag', { header: 'Flag', size: 80 }),
  col.accessor('role', { header: 'Role', size: 110 }),
  col.accessor('arch', { header: 'Arch', size: 80 }),
  col.accessor((r) => r.interfaces.map((i) => i.mac).join(' '), { id: 'mac', header: 'MAC', size: 160 }),
  col.accessor((r) => r.interfaces.flatMap((i) => i.ipAddresses).join(' '), { id: 'ip', header: 'IP', size: 130 }),
  col.accessor((r) => r.groups.join(', '), { id: 'groups', header: 'Groups', size: 160 }),
];

const search: FilterFn<NodeRow> = (row, _id, value: string) => {
  const v = value.trim().toLowerCase();
  if (!v) return true;
  const r = row.original;
  return (
    r.xname.toLowerCase().includes(v) ||
    String(r.nid ?? '') === v ||
    (r.role ?? '').toLowerCase().includes(v) ||
    r.groups.some((g) => g.toLowerCase().includes(v)) ||
    r.interfaces.some((i) => i.mac.toLowerCase().includes(v) || i.ipAddresses.some((ip) => ip.includes(v)))
  );
};

const ROW_HEIGHT = 30;

export function Nodes({ state, q }: { state: string | null; q: string }) {
  const [rows, setRows] = useState<NodeRow[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState(q);
  const [sorting, setSorting] = useState<SortingState>([]);

  useEffect(() => {
    let live = true;
    setRows([]);
    setLoading(true);
    setError(null);
    (async () => {
      let after: string | null = null;
      for (;;) {
        const page = await nodePage({ state }, after);
        if (!live) return;
        setRows((prev) => prev.concat(page.edges.map((e) => e.node)));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      setLoading(false);
    })().catch((err: Error) => {
      if (!live) return;
      setError(err.message);
      setLoading(false);
    });
    return () => {
      live = false;
    };
  }, [state]);

  const table = useReactTable({
    data: rows,
    columns,
    state: { globalFilter: query, sorting },
    onSortingChange: setSorting,
    globalFilterFn: search,
    getCoreRowModel: getCoreRowModel(),
    getFilteredRowModel: getFilteredRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const visible = table.getRowModel().rows;
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: visible.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 20 });
  const widths = useMemo(() => table.getVisibleLeafColumns().map((c) => c.getSize()), [table]);
  const grid = widths.map((w) => `${w}px`).join(' ');

  const setFilter = (next: { state?: string | null; q?: string }) => {
    location.hash = href({ page: 'nodes', state: next.state !== undefined ? next.state : state, q: next.q ?? query });
  };

  return (
    <section className="nodes">
      <h1>Nodes</h1>
      <div className="filters">
        <label>
          State{' '}
          <select aria-label="State" value={state ?? ''} onChange={(e) => setFilter({ state: e.target.value || null })}>
            <option value="">all</option>
            {STATES.map((s) => (
              <option key={s} value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Search{' '}
          <input aria-label="Search" type="search" value={query} placeholder="xname, NID, MAC, IP, role, group" onChange={(e) => setQuery(e.target.value)} onBlur={() => setFilter({ q: query })} />
        </label>
        <span className="count" data-testid="node-count" data-loading={loading ? 'true' : 'false'}>
          {visible.length.toLocaleString('en')} of {rows.length.toLocaleString('en')} nodes{loading ? ' (loading…)' : ''}
        </span>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      <div className="table" role="table" aria-rowcount={visible.length}>
        <div className="thead" role="row" style={{ gridTemplateColumns: grid }}>
          {table.getHeaderGroups()[0]!.headers.map((h) => (
            <div key={h.id} role="columnheader" className="th" onClick={h.column.getToggleSortingHandler()}>
              {flexRender(h.column.columnDef.header, h.getContext())}
              {{ asc: ' ▲', desc: ' ▼' }[h.column.getIsSorted() as string] ?? ''}
            </div>
          ))}
        </div>
        <div className="tbody" ref={scroller} data-testid="node-rows">
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((v) => {
              const row = visible[v.index]!;
              return (
                <div key={row.id} role="row" className="tr" data-xname={row.original.xname} style={{ gridTemplateColumns: grid, transform: `translateY(${v.start}px)`, height: ROW_HEIGHT }}>
                  {row.getVisibleCells().map((cell) => (
                    <div key={cell.id} role="cell" className="td">
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </div>
                  ))}
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </section>
  );
}
